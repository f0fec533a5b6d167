"""Learning-rate schedules as a multiplier of the base LR per optimizer step.

One function ``lr_factor(step)`` covers what the nine papers use: linear warmup followed by constant,
cosine or linear decay to ``min_lr_ratio``, exponential decay, and step annealing (x ``gamma`` every
``step_size`` steps or every epoch, as Deep Speech anneals per epoch). The multiplier is a picklable object
so ``LambdaLR.state_dict()`` round-trips through a checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

ScheduleName = Literal["constant", "cosine", "linear", "exponential", "step"]


@dataclass
class ScheduleConfig:
    name: ScheduleName = "constant"
    """shape after warmup: constant, cosine / linear decay to min_lr_ratio, exponential, step annealing"""
    warmup_steps: int = 0
    """linear warmup from 0 to the base LR over this many optimizer steps"""
    min_lr_ratio: float = 0.0
    """final LR as a fraction of the base LR (cosine, linear); a floor for exponential and step decay
    (Mellotron halves its LR every 50k steps but never below 1e-5 = 0.01 x 1e-3)"""
    gamma: float = 1.0
    """decay factor: per `step_size` steps (step) or per `decay_steps` steps (exponential)"""
    step_size: int = 0
    """steps between annealings for `step`; 0 with step_size_epochs > 0 means per epoch(s)"""
    step_size_epochs: int = 0
    """anneal every N epochs (step schedule); converted to steps with the loader length"""
    decay_steps: int = 1
    """exponential: LR x gamma ** (step / decay_steps)"""

    def __post_init__(self) -> None:
        if self.warmup_steps < 0:
            raise ValueError(f"schedule.warmup_steps must be >= 0, got {self.warmup_steps}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"schedule.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.name == "step" and self.step_size <= 0 and self.step_size_epochs <= 0:
            raise ValueError("schedule.name=step needs schedule.step_size > 0 or schedule.step_size_epochs > 0")


class LRFactor:
    """``factor(step)`` for LambdaLR; ``total_steps`` is the run length, used by cosine and linear."""

    def __init__(self, cfg: ScheduleConfig, total_steps: int, steps_per_epoch: int = 1) -> None:
        self.cfg = cfg
        self.total_steps = max(1, total_steps)
        self.step_size = cfg.step_size or cfg.step_size_epochs * max(1, steps_per_epoch)

    def __call__(self, step: int) -> float:
        c = self.cfg
        if step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        t = step - c.warmup_steps
        span = max(1, self.total_steps - c.warmup_steps)
        progress = min(1.0, t / span)
        if c.name == "constant":
            return 1.0
        if c.name == "cosine":
            return c.min_lr_ratio + (1 - c.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        if c.name == "linear":
            return 1.0 - (1 - c.min_lr_ratio) * progress
        if c.name == "exponential":
            return max(c.min_lr_ratio, c.gamma ** (t / max(1, c.decay_steps)))
        return max(c.min_lr_ratio, c.gamma ** (t // self.step_size))  # step


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, total_steps: int, steps_per_epoch: int = 1
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, LRFactor(cfg, total_steps, steps_per_epoch))
