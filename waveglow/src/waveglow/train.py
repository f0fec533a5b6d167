"""Training WaveGlow with ``repro.train.Trainer``: ``python train.py -c configs/ljs_256.json [key=value ...]``.

Everything generic (torchrun/DDP, AMP, checkpoints with exact resume, TensorBoard, metrics.jsonl) is the
Trainer's; this module only says what a WaveGlow step is (the NLL of a batch of (mel, audio) crops), what
validation is (the NLL on fixed crops of held-out clips, plus a few synthesised samples in TensorBoard)
and how to build the pieces from a config. Resume by re-running the same command with the same run folder.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from repro.train import DistEnv, StepOutput, Trainer, close_distributed, init_distributed, load_config
from repro.train.run_logger import RunLogger
from waveglow.config import WaveGlowConfig
from waveglow.data import MelAudioCrops, check_sample_rates, read_audio_list, train_loader, val_loader
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow

log = logging.getLogger(__name__)
VAL_SAMPLE_SIGMA = 0.6  # the official README's inference sigma, used for the audio samples in TensorBoard


def make_step_fn(cfg: WaveGlowConfig) -> Callable[[nn.Module, tuple[torch.Tensor, torch.Tensor]], StepOutput]:
    """The per-batch objective: WaveGlow's NLL per audio sample; counts clips and seconds for throughput."""
    criterion = WaveGlowLoss(cfg.loss.sigma)
    rate = cfg.data.sampling_rate

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        mel, audio = batch
        loss = criterion(model(mel, audio))
        return StepOutput(loss=loss, samples=audio.shape[0], audio_seconds=audio.numel() / rate)

    return step


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


def run(cfg: WaveGlowConfig, run_dir: Path, env: DistEnv | None = None) -> Trainer:
    """Build model, data and trainer from ``cfg`` and train to ``cfg.train.max_steps`` (resuming if possible)."""
    env = env or init_distributed(cfg.train.device)
    torch.manual_seed(cfg.train.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    model = WaveGlow(cfg.model)
    dataset = build_dataset(cfg, cfg.data.training_files)
    loader = train_loader(dataset, cfg.data.batch_size, rank=env.rank, world_size=env.world_size,
                          seed=cfg.train.seed, num_workers=cfg.data.num_workers)
    validator = None
    if cfg.data.validation_files:
        validator = Validator(cfg, build_dataset(cfg, cfg.data.validation_files), run_dir, env)
    trainer = Trainer(cfg.train, model, make_step_fn(cfg), loader, run_dir, val_fn=validator, full_config=cfg,
                      env=env)
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
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    cfg = load_config(WaveGlowConfig, args.config, args.overrides)
    run_dir = args.run_dir or default_run_dir(args.config, args.overrides)
    try:
        trainer = run(cfg, run_dir)
        if trainer.env.is_main:
            print(f"trained to step {trainer.state.step}; checkpoints in {run_dir}")
    finally:
        close_distributed()
    return 0
