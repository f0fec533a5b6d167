"""Training WaveGlow with ``ninerepro.train.Trainer``: ``python train.py -c configs/ljs_256.json [key=value ...]``.

Everything generic (torchrun/DDP, AMP, checkpoints with exact resume, TensorBoard, metrics.jsonl, the
wall-clock budget ``train.max_time_s``, the command line and the run folder's name) is ``ninerepro.train``'s.
This module only says what a WaveGlow step is (the NLL of a batch of (mel, audio) crops), what validation
is (the NLL on fixed crops of held-out clips, plus a few synthesised samples in TensorBoard) and how to
build the pieces from a config. Resume by re-running the same command with the same run folder.

Fine-tuning: ``--init-from CKPT`` starts a new run from the weights of our checkpoint, an official pickle or
a DLE ``{'state_dict'}`` (weight norm re-applied, fresh optimizer, step 0); the config's model section must
describe the same network. A run folder that already holds checkpoints resumes instead (the flag is then
ignored, with a log line), so re-running a fine-tuning command continues it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ninerepro.train import DistEnv, StepOutput, Trainer, close_distributed, init_distributed, load_config
from ninerepro.train.checkpoint import CheckpointError, list_checkpoints
from ninerepro.train.cli import default_run_dir, train_arg_parser
from ninerepro.train.config import ConfigError
from ninerepro.train.precision import resolve_precision
from ninerepro.train.run_logger import RunLogger
from waveglow.checkpoint import load_training_state
from waveglow.config import WaveGlowConfig
from waveglow.data import MelAudioCrops, check_sample_rates, read_audio_list, train_loader, val_loader
from waveglow.data_settings import differences
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow

VAL_SAMPLE_SIGMA = 0.6  # the official README's inference sigma, used for the audio samples in TensorBoard
log = logging.getLogger(__name__)


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


def build_model(cfg: WaveGlowConfig) -> WaveGlow:
    """The initial model: seeded, so every rank (and a demo's untrained baseline) starts from the same weights."""
    torch.manual_seed(cfg.train.seed)
    return WaveGlow(cfg.model)


def init_from(model: WaveGlow, path: str | Path, cfg: WaveGlowConfig) -> WaveGlow:
    """Load ``path``'s weights (ours, official pickle or DLE state dict) into the weight-normed ``model``.

    Only weights move: the optimizer, schedule and step start fresh, as fine-tuning a published model
    needs. Audio settings that differ from the checkpoint's (for official files: the published 22050 Hz /
    fmax 8000) are logged as a warning, since fine-tuning then has to unlearn them.
    """
    found = load_training_state(path, cfg.model)
    model.load_state_dict(found.state)
    what = f"{found.kind} checkpoint" + (f" (its iteration {found.iteration})" if found.iteration is not None else "")
    log.info("--init-from %s: weights of the %s, weight norm on; optimizer fresh, step 0", path, what)
    if found.config is not None:
        changed = differences(found.config.data, cfg.data)
        if changed:
            log.warning("--init-from %s: audio settings differ from the checkpoint's (%s)", path, "; ".join(changed))
    return model


def freeze(model: WaveGlow, prefixes: list[str]) -> list[str]:
    """Keep the parameters named by ``prefixes`` (config ``freeze``) out of training; returns their names.

    A prefix that names no parameter is an error, since a typo would otherwise train everything silently.
    """
    names = []
    for prefix in prefixes:
        hits = [n for n, p in model.named_parameters() if n.startswith(prefix)]
        if not hits:
            raise ValueError(f"freeze: {prefix!r} names no parameter of the model (e.g. 'upsample.')")
        for n, p in model.named_parameters():
            if n in hits:
                p.requires_grad_(False)
        names += hits
    if names:
        log.info("frozen at their initial values: %s", ", ".join(names))
    return names


def describe_run(cfg: WaveGlowConfig, env: DistEnv) -> str:
    """The line printed at start: global batch, per-GPU batch and precision (the paper: 24 on 8 GPUs, fp16)."""
    per_gpu, accum = cfg.data.batch_size, cfg.train.grad_accum
    precision = resolve_precision(cfg.train.precision, env.device)
    return (f"effective global batch {per_gpu * accum * env.world_size} = {per_gpu} per process x {accum} "
            f"accumulation x {env.world_size} process(es) on {env.device.type}; precision {precision}"
            f" (config: {cfg.train.precision}); segment {cfg.data.segment_length} samples")


class Validator:
    """``val_fn`` for the Trainer: mean NLL over the validation crops, and audio samples on rank 0.

    The Trainer's logger records the returned scalars; the audio samples go to TensorBoard through the
    same logger (``trainer.logger``, set while ``fit()`` runs), at the step being validated. Set
    :attr:`trainer` once the Trainer exists; without it only the NLL is computed.
    """

    def __init__(self, cfg: WaveGlowConfig, dataset: MelAudioCrops, env: DistEnv, n_audio: int = 2) -> None:
        self.cfg, self.dataset, self.env = cfg, dataset, env
        self.loader = val_loader(dataset, cfg.data.batch_size)
        self.criterion = WaveGlowLoss(cfg.loss.sigma)
        self.n_audio = n_audio
        self.trainer: Trainer | None = None

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        total, count = 0.0, 0
        for mel, audio in self.loader:
            mel, audio = mel.to(device), audio.to(device)
            total += float(self.criterion(model(mel, audio))) * len(audio)
            count += len(audio)
        logger = self.trainer.logger if self.trainer is not None else None
        if logger is not None and self.env.is_main and self.cfg.train.tensorboard and self.n_audio > 0:
            self._log_audio(model, device, logger, self.trainer.state.step)
        return {"loss": total / count}

    def _log_audio(self, model: nn.Module, device: torch.device, logger: RunLogger, step: int) -> None:
        g = torch.Generator().manual_seed(0)
        for i in range(min(self.n_audio, len(self.dataset))):
            mel, _ = self.dataset[i]
            z_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
            gen = torch.Generator(device=device).manual_seed(z_seed)
            wav = model.infer(mel.unsqueeze(0).to(device), sigma=VAL_SAMPLE_SIGMA, generator=gen)
            wav = wav.float().clamp(-1, 1).squeeze(0).cpu().numpy()
            logger.audio(f"val/sample_{i}", wav, self.cfg.data.sampling_rate, step)


def build_dataset(cfg: WaveGlowConfig, filelist: str) -> MelAudioCrops:
    paths = read_audio_list(filelist)
    check_sample_rates(paths, cfg.data.sampling_rate, filelist)
    return MelAudioCrops(paths, cfg.data, cfg.model, seed=cfg.train.seed)


def run(cfg: WaveGlowConfig, run_dir: Path, env: DistEnv | None = None, init_from_path: str | Path | None = None
        ) -> Trainer:
    """Build model, data and trainer from ``cfg`` and train to ``cfg.train.max_steps`` (resuming if possible).

    ``cfg.train.max_time_s`` > 0 ends this invocation cleanly once that much wall time is spent (the
    Trainer validates and checkpoints the last step); running again resumes. ``init_from_path``: the
    weights a new run starts from (see the module docstring).
    """
    env = env or init_distributed(cfg.train.device)
    model = build_model(cfg)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    if init_from_path is not None:
        if list_checkpoints(run_dir):
            log.info("%s holds checkpoints: resuming from them; --init-from %s is ignored", run_dir, init_from_path)
        else:
            init_from(model, init_from_path, cfg)
    freeze(model, cfg.freeze)
    if env.is_main:
        print(describe_run(cfg, env), flush=True)
    dataset = build_dataset(cfg, cfg.data.training_files)
    loader = train_loader(dataset, cfg.data.batch_size, rank=env.rank, world_size=env.world_size,
                          seed=cfg.train.seed, num_workers=cfg.data.num_workers)
    validator = None
    if cfg.data.validation_files:
        validator = Validator(cfg, build_dataset(cfg, cfg.data.validation_files), env)
    trainer = Trainer(cfg.train, model, make_step_fn(cfg), loader, run_dir, val_fn=validator, full_config=cfg,
                      env=env)
    if validator is not None:
        validator.trainer = trainer
    trainer.fit()
    return trainer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The shared ``train.py`` command line (``ninerepro.train.cli``), plus ``--time-budget``."""
    p = train_arg_parser("Train WaveGlow (runs unchanged under torchrun).")
    p.prog = "waveglow-train"
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="sets train.max_time_s: stop cleanly (last step validated and checkpointed) after this "
                        "many seconds; unlike the override, it leaves the run folder's name unchanged")
    p.add_argument("--init-from", type=Path, metavar="CKPT",
                   help="start a new run from these weights (ours, official pickle or DLE state dict): weight norm "
                        "re-applied, optimizer fresh, step 0; ignored when the run folder already has checkpoints")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train; a bad config, file or option is one ``error:`` line on stderr with exit status 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        if args.init_from is not None and not args.init_from.is_file():
            raise FileNotFoundError(f"--init-from {args.init_from}: no such checkpoint")
        cfg = load_config(WaveGlowConfig, args.config, args.overrides)
        if args.time_budget is not None:
            cfg.train.max_time_s = args.time_budget
        run_dir = args.run_dir or default_run_dir(args.config, args.overrides)
        try:
            trainer = run(cfg, run_dir, init_from_path=args.init_from)
            if trainer.env.is_main:
                print(f"trained to step {trainer.state.step}; checkpoints in {run_dir}")
        finally:
            close_distributed()
    except (ConfigError, CheckpointError, ValueError, FileNotFoundError, RuntimeError) as e:
        if args.debug:
            raise
        from waveglow.convert import one_line

        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    return 0
