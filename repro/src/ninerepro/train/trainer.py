"""A trainer for any model whose loss for a batch is computed by a step function.

A subproject supplies ``step_fn(model, batch) -> StepOutput`` (its loss.py decides what the loss is) and
a DataLoader; the trainer owns everything else: device, DDP/FSDP, mixed precision, accumulation,
clipping, LR schedule, non-finite detection, validation, checkpoints and exact resume, logging.

Resume is by re-running the same command: if the run folder holds a checkpoint, training continues from
the newest valid one, with model, optimizer, scheduler, scaler, data position and RNG restored, so the
continued run is bit-identical to an uninterrupted one on CPU (tested).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ninerepro.train import checkpoint as ckpt
from ninerepro.train.config import save_config, to_dict
from ninerepro.train.distributed import (
    DistEnv,
    all_gather_objects,
    all_reduce_mean,
    barrier,
    init_distributed,
    unwrap_model,
    wrap_model,
)
from ninerepro.train.meters import ThroughputMeter
from ninerepro.train.optim import build_optimizer
from ninerepro.train.precision import autocast, make_grad_scaler, resolve_precision
from ninerepro.train.rng import get_rng_state, seed_everything, set_rng_state
from ninerepro.train.run_logger import RunLogger
from ninerepro.train.schedule import build_scheduler
from ninerepro.train.trainer_config import TrainerConfig
from ninerepro.train.transfer import move_to_device

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """The loss or gradient norm became NaN/inf; the step was not applied."""


@dataclass
class StepOutput:
    """What one micro-batch produced: the loss to minimise plus counts for metrics and throughput."""

    loss: torch.Tensor
    metrics: dict[str, float | torch.Tensor] = field(default_factory=dict)
    samples: int = 0
    tokens: int = 0
    audio_seconds: float = 0.0


StepFn = Callable[[nn.Module, Any], StepOutput]
ValFn = Callable[[nn.Module], dict[str, float]]


@dataclass
class LoopState:
    """Where training is; checkpointed so a resumed run picks up at the same batch."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0


class Trainer:
    def __init__(
        self,
        cfg: TrainerConfig,
        model: nn.Module,
        step_fn: StepFn,
        train_loader: Iterable,
        run_dir: str | Path,
        *,
        val_fn: ValFn | None = None,
        full_config: Any = None,
        env: DistEnv | None = None,
    ) -> None:
        self.cfg = cfg
        self.env = env or init_distributed(cfg.device)
        self.run_dir = Path(run_dir)
        self.step_fn, self.val_fn = step_fn, val_fn
        self.loader = train_loader
        self.sampler = _resumable_sampler(train_loader)
        self.full_config = full_config
        seed_everything(cfg.seed, self.env.rank)
        self.precision = resolve_precision(cfg.precision, self.env.device)
        self.model = wrap_model(model.to(self.env.device), self.env, fsdp=cfg.fsdp)
        if cfg.compile:
            self.model = torch.compile(self.model)
        self.optimizer = build_optimizer(self.model.parameters(), cfg.optimizer)
        steps_per_epoch = _steps_per_epoch(train_loader, cfg)
        self.scheduler = build_scheduler(self.optimizer, cfg.schedule, cfg.max_steps, steps_per_epoch)
        self.scaler = make_grad_scaler(self.precision, self.env.device)
        self.state = LoopState()
        self.meter = ThroughputMeter()
        self.last_checkpoint: Path | None = None
        self._pending_rng: dict[str, Any] | None = None
        self._start_time = time.monotonic()
        self._out_of_time = False  # set once train.max_time_s is spent (all ranks agree)
        self.logger: RunLogger | None = None  # the run's logger while fit() runs (for audio/image hooks)

    # ---- public API -------------------------------------------------------------------------------
    def fit(self) -> LoopState:
        """Train to ``max_steps`` (resuming if the run folder has a checkpoint) and return the loop state."""
        self.resume()
        if self.env.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if self.full_config is not None:
                save_config(self.full_config, self.run_dir / "config.json")
        logger = RunLogger(self.run_dir, enabled=self.env.is_main, total_steps=self.cfg.max_steps,
                           initial_step=self.state.step, tensorboard=self.cfg.tensorboard, progress=self.cfg.progress)
        self.logger = logger
        self._start_time = time.monotonic()
        try:
            self._loop(logger)
        finally:
            logger.close()
            self.logger = None
        return self.state

    def resume(self) -> bool:
        """Load the newest valid checkpoint of the run folder, if any. Returns whether one was found."""
        found = ckpt.find_latest_valid(self.run_dir)
        if found is None:
            return False
        path, state = found
        self.load_state(state, source=str(path))
        self.last_checkpoint = path
        log.info("resumed from %s at step %d", path, self.state.step)
        return True

    # ---- the loop ---------------------------------------------------------------------------------
    def _loop(self, logger: RunLogger) -> None:
        window: dict[str, float] = {}
        while not self._finished():
            if self.sampler is not None:
                self.sampler.set_epoch(self.state.epoch)
                self.sampler.set_start(self.state.batch_in_epoch)
            batches = iter(self.loader)
            if self._pending_rng is not None:
                set_rng_state(self._pending_rng)
                self._pending_rng = None
            while not self._finished():
                stats = self._optimizer_step(batches)
                if stats is None:  # epoch exhausted
                    break
                self.state.step += 1
                for k, v in stats.items():
                    window[k] = window.get(k, 0.0) + v
                self._after_step(logger, window)
            else:
                break
            self.state.epoch += 1
            self.state.batch_in_epoch = 0
        if self.last_checkpoint is None or not self.last_checkpoint.name.endswith(f"{self.state.step:09d}.pt"):
            self.save()

    def _finished(self) -> bool:
        return self.state.step >= self.cfg.max_steps or self._out_of_time

    def _after_step(self, logger: RunLogger, window: dict[str, float]) -> None:
        step, cfg = self.state.step, self.cfg
        last = self._finished()
        if last and self._out_of_time:
            log.info("train.max_time_s=%.0f spent: step %d is the last of this run", cfg.max_time_s, step)
        if step % cfg.log_every == 0 or last:
            n = window.pop("_n", 1.0)
            scalars = {k: v / n for k, v in window.items()}
            scalars["lr"] = self.scheduler.get_last_lr()[0]
            scalars.update(self.meter.rates())
            logger.scalars(step, scalars)
            logger.progress(step, {"loss": scalars.get("loss", float("nan")), "lr": scalars["lr"]})
            window.clear()
        if self.val_fn is not None and ((cfg.val_every and step % cfg.val_every == 0) or last):
            logger.scalars(step, self.validate(), split="val")
        if step % cfg.ckpt_every == 0 and not last:
            self.save()

    def _optimizer_step(self, batches) -> dict[str, float] | None:
        """Run ``grad_accum`` micro-batches and one optimizer update; None when the epoch ran out first."""
        cfg, env = self.cfg, self.env
        loss_sum = torch.zeros((), device=env.device)
        metric_sums: dict[str, torch.Tensor] = {}
        for micro in range(cfg.grad_accum):
            try:
                batch = next(batches)
            except StopIteration:
                if micro == 0:
                    return None
                break  # a short final accumulation group: use what there is
            self.state.batch_in_epoch += 1
            batch = move_to_device(batch, env.device)
            sync = micro == cfg.grad_accum - 1
            with _maybe_no_sync(self.model, sync), autocast(self.precision, env.device):
                out = self.step_fn(self.model, batch)
            self.scaler.scale(out.loss.float() / cfg.grad_accum).backward()
            loss_sum += out.loss.detach().float()
            for k, v in out.metrics.items():
                metric_sums[k] = metric_sums.get(k, 0.0) + torch.as_tensor(v, dtype=torch.float32).detach().cpu()
            self.meter.update(samples=out.samples, tokens=out.tokens, audio_seconds=out.audio_seconds)
        n_micro = micro + 1 if micro < cfg.grad_accum else cfg.grad_accum
        return self._apply_update(loss_sum / n_micro, {k: float(v) / n_micro for k, v in metric_sums.items()})

    def _apply_update(self, loss: torch.Tensor, metrics: dict[str, float]) -> dict[str, float]:
        self.scaler.unscale_(self.optimizer)
        max_norm = self.cfg.grad_clip if self.cfg.grad_clip > 0 else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        if hasattr(grad_norm, "full_tensor"):  # FSDP2 returns a DTensor
            grad_norm = grad_norm.full_tensor()
        # one host sync per step: loss (mean over ranks), global grad norm, and whether any rank is out of time
        over = float(self.cfg.max_time_s > 0 and time.monotonic() - self._start_time > self.cfg.max_time_s)
        both = torch.stack([loss, grad_norm.float().to(loss.device), loss.new_tensor(over)])
        loss_val, norm_val, over_any = all_reduce_mean(both, self.env).tolist()
        step = self.state.step + 1
        if not math.isfinite(loss_val) or (not math.isfinite(norm_val) and self.precision != "fp16"):
            self.optimizer.zero_grad(set_to_none=True)
            raise NonFiniteLossError(
                f"non-finite {'loss' if not math.isfinite(loss_val) else 'gradient norm'} at step {step} "
                f"(loss={loss_val}, grad_norm={norm_val}); the update was not applied. Last good checkpoint: "
                f"{self.last_checkpoint or 'none yet'}. Lower the LR, enable train.grad_clip, or check the batch."
            )
        self.scaler.step(self.optimizer)  # skipped by the scaler if fp16 gradients overflowed
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._out_of_time = over_any > 0
        return {"_n": 1.0, "loss": loss_val, "grad_norm": norm_val, **metrics}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        self.model.eval()
        try:
            with autocast(self.precision, self.env.device):
                return dict(self.val_fn(unwrap_model(self.model)))
        finally:
            self.model.train()

    # ---- checkpoints ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        model_sd, optim_sd = self._model_and_optim_state()
        sched_sd = self.scheduler.state_dict()
        sched_sd["lr_lambdas"] = [None] * len(sched_sd.get("lr_lambdas", []))  # rebuilt from config, not pickled
        return {
            "model": model_sd,
            "optimizer": optim_sd,
            "scheduler": sched_sd,
            "scaler": self.scaler.state_dict(),
            "loop": vars(self.state).copy(),
            "sampler": self.sampler.state_dict() if hasattr(self.sampler, "state_dict") else None,
            "rng": all_gather_objects(get_rng_state(), self.env),
            "config": to_dict(self.full_config) if self.full_config is not None else None,
            "world_size": self.env.world_size,
        }

    def save(self) -> Path | None:
        """Write a checkpoint of the current step (collective: every rank must call it)."""
        state = self.state_dict()
        path = None
        if self.env.is_main:
            path = ckpt.save_checkpoint(state, self.run_dir, self.state.step, keep_last=self.cfg.keep_last)
        barrier(self.env)
        self.last_checkpoint = ckpt.checkpoint_path(self.run_dir, self.state.step)
        return path

    def load_state(self, state: dict[str, Any], source: str) -> None:
        self._load_model_and_optim(state, source)
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.state = LoopState(**state["loop"])
        rngs = state.get("rng") or []
        if len(rngs) == self.env.world_size:
            # restored once the data iterator exists: creating one draws a seed from the global RNG,
            # which in the uninterrupted run happened at the start of the epoch, before this state was saved
            self._pending_rng = rngs[self.env.rank]
        else:
            log.warning("checkpoint was written by %d ranks, now %d: RNG streams are reseeded, not restored",
                        len(rngs), self.env.world_size)
            seed_everything(self.cfg.seed + self.state.step, self.env.rank)

    def _model_and_optim_state(self) -> tuple[dict, dict]:
        if self.cfg.fsdp and self.env.is_distributed:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

            opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
            return get_state_dict(self.model, self.optimizer, options=opts)
        return unwrap_model(self.model).state_dict(), self.optimizer.state_dict()

    def _load_model_and_optim(self, state: dict[str, Any], source: str) -> None:
        plain = unwrap_model(self.model)
        if self.cfg.fsdp and self.env.is_distributed:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

            opts = StateDictOptions(full_state_dict=True)
            set_state_dict(self.model, self.optimizer, model_state_dict=state["model"],
                           optim_state_dict=state["optimizer"], options=opts)
            return
        ckpt.load_model_state(plain, state["model"], source)
        self.optimizer.load_state_dict(state["optimizer"])


def _maybe_no_sync(model: nn.Module, sync: bool):
    import contextlib

    if not sync and hasattr(model, "no_sync"):
        return model.no_sync()
    return contextlib.nullcontext()


def _resumable_sampler(loader: Iterable):
    """The loader's sampler if it can be positioned (BucketBatchSampler); plain samplers restart epochs."""
    for attr in ("batch_sampler", "sampler"):
        s = getattr(loader, attr, None)
        if s is not None and hasattr(s, "set_start") and hasattr(s, "set_epoch"):
            return s
    return None


def _steps_per_epoch(loader: Iterable, cfg: TrainerConfig) -> int:
    try:
        return max(1, len(loader) // cfg.grad_accum)
    except TypeError:
        return 1
