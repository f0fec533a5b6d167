"""Training WaveGlow with ``repro.train.Trainer``: ``python train.py -c configs/ljs_256.json [key=value ...]``.

Everything generic (torchrun/DDP, AMP, checkpoints with exact resume, TensorBoard, metrics.jsonl) is the
Trainer's; this module only says what a WaveGlow step is (the NLL of a batch of (mel, audio) crops), what
validation is (the NLL on fixed crops of held-out clips, plus a few synthesised samples in TensorBoard)
and how to build the pieces from a config. Resume by re-running the same command with the same run folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from repro.train import DistEnv, StepOutput, Trainer, close_distributed, init_distributed, load_config
from repro.train.distributed import all_reduce_mean
from repro.train.run_logger import RunLogger
from waveglow.config import WaveGlowConfig
from waveglow.data import MelAudioCrops, check_sample_rates, read_audio_list, train_loader, val_loader
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow

log = logging.getLogger(__name__)
VAL_SAMPLE_SIGMA = 0.6  # the official README's inference sigma, used for the audio samples in TensorBoard


StepFn = Callable[[nn.Module, tuple[torch.Tensor, torch.Tensor]], StepOutput]


def make_step_fn(cfg: WaveGlowConfig) -> StepFn:
    """The per-batch objective: WaveGlow's NLL per audio sample; counts clips and seconds for throughput."""
    criterion = WaveGlowLoss(cfg.loss.sigma)
    rate = cfg.data.sampling_rate

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        mel, audio = batch
        loss = criterion(model(mel, audio))
        return StepOutput(loss=loss, samples=audio.shape[0], audio_seconds=audio.numel() / rate)

    return step


class TimeBudget:
    """Wraps a step function so training stops cleanly once ``seconds`` of wall time have passed.

    Used by the demo (a fixed wall-clock budget on slow machines) and by ``--time-budget`` (cluster time
    limits). When the budget is spent, the optimizer step being run becomes the last one: the Trainer's
    ``max_steps`` (read every step) is lowered to it, so the final log, validation and checkpoint happen as
    usual. Under torchrun the ranks agree on the decision (one all-reduce per step), so none waits forever.
    """

    def __init__(self, step_fn: StepFn, seconds: float) -> None:
        self.step_fn, self.seconds = step_fn, seconds
        self.start = time.monotonic()
        self.trainer: Trainer | None = None  # set once the Trainer exists
        self.stopped_early = False

    def __call__(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        trainer = self.trainer
        if trainer is not None and not self.stopped_early:
            spent = torch.tensor([float(time.monotonic() - self.start > self.seconds)], device=trainer.env.device)
            if float(all_reduce_mean(spent, trainer.env)) > 0:
                log.info("time budget of %.0f s spent at step %d: it is the last", self.seconds, trainer.state.step + 1)
                trainer.cfg.max_steps = min(trainer.cfg.max_steps, trainer.state.step + 1)
                self.stopped_early = True
        return self.step_fn(model, batch)


def build_model(cfg: WaveGlowConfig) -> WaveGlow:
    """The initial model: seeded, so every rank (and a demo's untrained baseline) starts from the same weights."""
    torch.manual_seed(cfg.train.seed)
    return WaveGlow(cfg.model)


class Validator:
    """``val_fn`` for the Trainer: mean NLL over the validation crops, and audio samples on rank 0.

    The Trainer's own logger records the returned scalars; the audio goes through a second RunLogger on
    the same run folder (TensorBoard merges event files), opened lazily and closed by :meth:`close`.
    """

    def __init__(self, cfg: WaveGlowConfig, dataset: MelAudioCrops, run_dir: Path, env: DistEnv,
                 n_audio: int = 2) -> None:
        self.cfg, self.dataset, self.run_dir, self.env = cfg, dataset, run_dir, env
        self.loader = val_loader(dataset, cfg.data.batch_size)
        self.criterion = WaveGlowLoss(cfg.loss.sigma)
        self.n_audio = n_audio
        self.calls = 0
        self._logger: RunLogger | None = None

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        total, count = 0.0, 0
        for mel, audio in self.loader:
            mel, audio = mel.to(device), audio.to(device)
            total += float(self.criterion(model(mel, audio))) * len(audio)
            count += len(audio)
        self.calls += 1
        if self.env.is_main and self.cfg.train.tensorboard and self.n_audio > 0:
            self._log_audio(model, device)
        return {"loss": total / count}

    def _log_audio(self, model: nn.Module, device: torch.device) -> None:
        if self._logger is None:
            self._logger = RunLogger(self.run_dir, tensorboard=True, progress=False)
        g = torch.Generator().manual_seed(0)
        for i in range(min(self.n_audio, len(self.dataset))):
            mel, _ = self.dataset[i]
            z_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
            gen = torch.Generator(device=device).manual_seed(z_seed)
            wav = model.infer(mel.unsqueeze(0).to(device), sigma=VAL_SAMPLE_SIGMA, generator=gen)
            wav = wav.float().clamp(-1, 1).squeeze(0).cpu().numpy()
            self._logger.audio(f"val/sample_{i}", wav, self.cfg.data.sampling_rate, self.calls)

    def close(self) -> None:
        if self._logger is not None:
            self._logger.close()


def build_dataset(cfg: WaveGlowConfig, filelist: str) -> MelAudioCrops:
    paths = read_audio_list(filelist)
    check_sample_rates(paths, cfg.data.sampling_rate, filelist)
    return MelAudioCrops(paths, cfg.data, cfg.model, seed=cfg.train.seed)


def default_run_dir(config_path: str, overrides: list[str]) -> Path:
    """``runs/<config name>[+key=value...]``: the folder name says what was run (ESPnet-style)."""
    name = Path(config_path).stem
    if overrides:
        name += "+" + "+".join(re.sub(r"[^A-Za-z0-9_.=-]", "_", o) for o in overrides)
    return Path("runs") / name[:200]


def run(cfg: WaveGlowConfig, run_dir: Path, env: DistEnv | None = None, time_budget_s: float | None = None) -> Trainer:
    """Build model, data and trainer from ``cfg`` and train to ``cfg.train.max_steps`` (resuming if possible)."""
    env = env or init_distributed(cfg.train.device)
    model = build_model(cfg)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    dataset = build_dataset(cfg, cfg.data.training_files)
    loader = train_loader(dataset, cfg.data.batch_size, rank=env.rank, world_size=env.world_size,
                          seed=cfg.train.seed, num_workers=cfg.data.num_workers)
    validator = None
    if cfg.data.validation_files:
        validator = Validator(cfg, build_dataset(cfg, cfg.data.validation_files), run_dir, env)
    step_fn: StepFn = make_step_fn(cfg)
    budget = None
    if time_budget_s is not None:
        step_fn = budget = TimeBudget(step_fn, time_budget_s)
    # a copy of the trainer section: a time budget may lower its max_steps, the saved config keeps the request
    trainer = Trainer(dataclasses.replace(cfg.train), model, step_fn, loader, run_dir, val_fn=validator,
                      full_config=cfg, env=env)
    if budget is not None:
        budget.trainer = trainer
    try:
        trainer.fit()
    finally:
        if validator is not None:
            validator.close()
    return trainer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="waveglow-train", description="Train WaveGlow (runs unchanged under torchrun).")
    p.add_argument("-c", "--config", required=True, help="config JSON, e.g. configs/ljs_256.json")
    p.add_argument("overrides", nargs="*", help="config overrides key=value, e.g. train.max_steps=1000")
    p.add_argument("--run-dir", type=Path, help="run folder (checkpoints, logs); default runs/<config>[+overrides]")
    p.add_argument("--time-budget", type=float, help="stop cleanly (checkpoint written) after this many seconds")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    cfg = load_config(WaveGlowConfig, args.config, args.overrides)
    run_dir = args.run_dir or default_run_dir(args.config, args.overrides)
    try:
        trainer = run(cfg, run_dir, time_budget_s=args.time_budget)
        if trainer.env.is_main:
            print(f"trained to step {trainer.state.step}; checkpoints in {run_dir}")
    finally:
        close_distributed()
    return 0
