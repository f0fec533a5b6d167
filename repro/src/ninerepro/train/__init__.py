"""The training runtime shared by every subproject.

A subproject's train.py builds its model, data loader and a ``step_fn`` returning a ``StepOutput``, then
hands them to ``Trainer``; config loading, torchrun/DDP/FSDP, mixed precision, checkpoints with exact
resume, TensorBoard/tqdm/metrics logging all live here once.
"""

from ninerepro.train.checkpoint import CheckpointError, load_checkpoint, load_model_state, save_checkpoint
from ninerepro.train.config import ConfigError, load_config, save_config
from ninerepro.train.distributed import DistEnv, close_distributed, init_distributed
from ninerepro.train.schedule import ScheduleConfig
from ninerepro.train.trainer import NonFiniteLossError, StepOutput, Trainer
from ninerepro.train.trainer_config import OptimizerConfig, TrainerConfig

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DistEnv",
    "NonFiniteLossError",
    "OptimizerConfig",
    "ScheduleConfig",
    "StepOutput",
    "Trainer",
    "TrainerConfig",
    "close_distributed",
    "init_distributed",
    "load_checkpoint",
    "load_config",
    "load_model_state",
    "save_checkpoint",
    "save_config",
]
