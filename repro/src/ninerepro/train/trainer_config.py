"""The trainer's own config section; each subproject nests it as ``train`` in its config dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ninerepro.train.precision import Precision
from ninerepro.train.schedule import ScheduleConfig


@dataclass
class OptimizerConfig:
    name: Literal["adam", "adamw", "radam", "sgd"] = "adam"
    """optimizer family (WaveGlow/Mellotron: adam; Flowtron's current config: radam; Deep Speech: sgd with
    Nesterov momentum)"""
    lr: float = 1e-3
    """base learning rate, multiplied by the schedule's factor each step"""
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    """L2 penalty (adam, radam, sgd) or decoupled decay (adamw)"""
    momentum: float = 0.0
    """sgd only"""
    nesterov: bool = False
    """sgd only"""


@dataclass
class TrainerConfig:
    max_steps: int = 1000
    """optimizer steps to train for (a resumed run continues up to this number)"""
    grad_accum: int = 1
    """micro-batches per optimizer step; the loss is divided by this so the gradient is their mean"""
    grad_clip: float = 0.0
    """clip the global gradient norm to this value; 0 disables clipping (the norm is still logged)"""
    precision: Precision = "auto"
    """auto = bf16 on GPUs that have it, fp16 + GradScaler on older GPUs, fp32 on CPU"""
    compile: bool = False
    """wrap the model in torch.compile (opt-in: compile time dominates short runs)"""
    fsdp: bool = False
    """shard parameters with FSDP2 instead of replicating them with DDP (multi-GPU only)"""
    device: str = "auto"
    """auto, cpu, cuda or cuda:N"""
    seed: int = 1234
    log_every: int = 10
    """optimizer steps between logged training scalars"""
    val_every: int = 0
    """optimizer steps between validations; 0 = only at the end"""
    ckpt_every: int = 1000
    """optimizer steps between checkpoints (one is always written at the end)"""
    keep_last: int = 2
    """checkpoints kept in the run folder; the newest may be mid-write, so keep at least 2"""
    max_time_s: float = 0.0
    """wall-clock budget in seconds for this invocation: once spent, the current step is the last (final
    validation and checkpoint as usual; re-running resumes). 0 = no limit. For demos and cluster time limits"""
    tensorboard: bool = True
    progress: bool = True
    """show a tqdm bar on rank 0"""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    def __post_init__(self) -> None:
        if self.grad_accum < 1:
            raise ValueError(f"train.grad_accum must be >= 1, got {self.grad_accum}")
        if self.max_steps < 1:
            raise ValueError(f"train.max_steps must be >= 1, got {self.max_steps}")
        if self.keep_last == 1:
            raise ValueError(
                "train.keep_last=1 can leave no valid checkpoint if a save is cut off; use >= 2 or 0 (keep all)"
            )
        if self.ckpt_every < 1 or self.log_every < 1:
            raise ValueError("train.ckpt_every and train.log_every must be >= 1")
