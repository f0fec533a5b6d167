"""The training runtime shared by every subproject.

A subproject's train.py builds its model, data loader and a ``step_fn`` returning a ``StepOutput``, then
hands them to ``Trainer``; config loading, torchrun/DDP/FSDP, mixed precision, checkpoints with exact
resume, TensorBoard/tqdm/metrics logging all live here once.
"""

from repro.train.checkpoint import CheckpointError, load_checkpoint, load_model_state, save_checkpoint
from repro.train.config import ConfigError, load_config, save_config
from repro.train.distributed import DistEnv, close_distributed, init_distributed
from repro.train.schedule import ScheduleConfig
from repro.train.trainer import NonFiniteLossError, StepOutput, Trainer
from repro.train.trainer_config import OptimizerConfig, TrainerConfig

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
