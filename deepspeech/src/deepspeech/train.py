"""Training: manifest -> SortaGrad/bucketed batches -> model -> CTC, run by ninerepro.train.Trainer.

The Trainer supplies torchrun/DDP, AMP, gradient clipping, the per-epoch LR annealing (schedule ``step``
with ``step_size_epochs``), checkpoints and exact resume; this module builds the pieces, derives
``max_steps`` from ``epochs`` for the GPU count at hand (``epoch_schedule``) and keeps the checkpoint with
the best validation WER as ``best.pt`` beside the rolling ones (``BestCheckpoint``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from deepspeech.config import DeepSpeechConfig
from deepspeech.data import Batch, SortaGradSampler, SpeechDataset, collate, load_eval_utterances, load_utterances
from deepspeech.evaluate import evaluate_utterances
from deepspeech.features import make_vocab
from deepspeech.loss import ctc_loss
from deepspeech.model import build_model
from ninerepro.atomic import atomic_save, atomic_write_text
from ninerepro.audio import spec_augment
from ninerepro.train import StepOutput, Trainer
from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, versions
from ninerepro.train.cli import load_run_config, parse_train_args
from ninerepro.train.config import to_dict
from ninerepro.train.distributed import DistEnv, init_distributed
from ninerepro.train.rng import seed_everything

log = logging.getLogger(__name__)


def output_frames_per_second(model: nn.Module, cfg: DeepSpeechConfig) -> float:
    frames = torch.tensor([1000])
    return float(model.output_lengths(frames)[0]) / (1000 * cfg.features.window_stride)


def make_step_fn(cfg: DeepSpeechConfig):
    """step_fn(model, batch) -> StepOutput: SpecAugment (train only), forward, CTC with skip counting."""
    aug = cfg.data.augment

    def step(model: nn.Module, batch: Batch) -> StepOutput:
        x = batch.features
        if aug.spec_augment and model.training:
            x = spec_augment(x.cpu(), freq_width=aug.freq_width, time_width=aug.time_width).to(x.device)
        log_probs, out_lengths = model(x, batch.lengths)
        result = ctc_loss(log_probs, out_lengths, batch.targets, cfg.loss_reduction)
        return StepOutput(loss=result.loss, metrics={"skipped": float(result.skipped)},
                          samples=len(batch.targets), audio_seconds=batch.seconds)

    return step


def build_loader(cfg: DeepSpeechConfig, dataset: SpeechDataset, rank: int, world: int) -> DataLoader:
    sampler = SortaGradSampler(dataset.lengths(), cfg.data.batch_size, sortagrad=cfg.data.sortagrad,
                               num_replicas=world, rank=rank, seed=cfg.train.seed,
                               bucket_size_multiplier=cfg.data.bucket_size_multiplier)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=cfg.data.num_workers,
                      persistent_workers=cfg.data.num_workers > 0)


def epoch_schedule(cfg: DeepSpeechConfig, n_utterances: int, batches_per_epoch: int, world: int,
                   announce: bool = True) -> DeepSpeechConfig:
    """``cfg`` with train.max_steps (and, if asked, val_every/ckpt_every) derived from ``cfg.epochs`` for
    this run's global batch; unchanged when ``epochs`` is 0. ``batches_per_epoch`` is the sampler's count per
    rank (ceil(utterances / (batch x GPUs))); a short last accumulation group still makes a step."""
    if not cfg.epochs:
        return cfg
    accum = cfg.train.grad_accum
    per_epoch = max(1, math.ceil(batches_per_epoch / accum))
    changes = {"max_steps": max(1, math.ceil(cfg.epochs * per_epoch))}
    if cfg.validations_per_epoch:
        every = max(1, per_epoch // cfg.validations_per_epoch)
        changes.update(val_every=every, ckpt_every=every)
    global_batch = cfg.data.batch_size * world * accum
    if announce:
        print(f"max_steps {changes['max_steps']:,} = {cfg.epochs:g} epochs x {per_epoch:,} steps/epoch "
              f"({n_utterances:,} utterances / global batch {global_batch:,} = {cfg.data.batch_size} per GPU x "
              f"{world} GPU(s) x {accum} accumulation)"
              + (f"; validation + checkpoint every {changes['val_every']:,} steps" if "val_every" in changes else ""),
              flush=True)
    return replace(cfg, train=replace(cfg.train, **changes))


class BestCheckpoint:
    """Keeps ``best.pt`` (model + config, loadable wherever a checkpoint file is: deepspeech-eval,
    deepspeech-transcribe, Transcriber) for the lowest validation WER so far, and ``best.json`` with its
    step and rates; a resumed run reads ``best.json`` so an earlier better model is never overwritten."""

    def __init__(self, run_dir: str | Path, env: DistEnv, metric: str = "wer") -> None:
        self.run_dir, self.env, self.metric = Path(run_dir), env, metric
        record = self.run_dir / "best.json"
        self.best = json.loads(record.read_text())[metric] if record.is_file() else math.inf

    def update(self, model: nn.Module, cfg: DeepSpeechConfig, metrics: dict[str, float], step: int) -> bool:
        value = metrics[self.metric]
        if not value < self.best:
            return False
        self.best = value
        if self.env.is_main:
            state = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(),
                     "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                     "config": to_dict(cfg), "loop": {"step": step, "epoch": 0, "batch_in_epoch": 0}}
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_save(self.run_dir / "best.pt", lambda f: torch.save(state, f))
            atomic_write_text(self.run_dir / "best.json", json.dumps({"step": step, **metrics}) + "\n")
            log.info("step %d: best validation %s so far (%.4f), saved %s", step, self.metric, value,
                     self.run_dir / "best.pt")
        return True


def build_trainer(cfg: DeepSpeechConfig, run_dir: str | Path) -> Trainer:
    """Model, data and Trainer for ``cfg`` (rank and device from torchrun's environment, if any)."""
    if not cfg.data.train_manifest:
        raise ValueError("data.train_manifest is empty; pass data.train_manifest=PATH (a JSON-lines manifest)")
    env = init_distributed(cfg.train.device)
    vocab = make_vocab(cfg.model.vocab)
    seed_everything(cfg.train.seed)  # same initial weights on every rank and every fresh run of one config
    model = build_model(cfg, len(vocab))
    fps = output_frames_per_second(model, cfg)
    train_utts = load_utterances(cfg.data.train_manifest, vocab, fps, cfg.data.max_duration)
    dataset = SpeechDataset(train_utts, cfg.features, cfg.model.arch, cfg.data.augment)
    loader = build_loader(cfg, dataset, env.rank, env.world_size)
    cfg = epoch_schedule(cfg, len(train_utts), len(loader), env.world_size, announce=env.is_main)
    trainer = Trainer(cfg.train, model, make_step_fn(cfg), loader, run_dir, full_config=cfg, env=env)
    if cfg.data.val_manifest:
        val_utts = load_eval_utterances(cfg.data.val_manifest, vocab)
        best = BestCheckpoint(run_dir, env)

        def val_fn(m: nn.Module) -> dict[str, float]:
            report = evaluate_utterances(m, cfg, val_utts, batch_size=cfg.data.batch_size)
            metrics = {"wer": report["wer"], "cer": report["cer"]}
            best.update(m, cfg, metrics, trainer.state.step)
            return metrics

        trainer.val_fn = val_fn
    return trainer


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_train_args("Train Deep Speech 1/2 with CTC (resumes when --run-dir holds a checkpoint).", argv)
    cfg = load_run_config(DeepSpeechConfig, args)
    trainer = build_trainer(cfg, args.run_dir)
    state = trainer.fit()
    print(f"trained to step {state.step}; checkpoints in {args.run_dir}")
    return 0
