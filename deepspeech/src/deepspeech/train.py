"""Training: manifest -> SortaGrad/bucketed batches -> model -> CTC, run by repro.train.Trainer.

The Trainer supplies torchrun/DDP, AMP, gradient clipping, the per-epoch LR annealing (schedule ``step``
with ``step_size_epochs``), checkpoints and exact resume; this module only builds the pieces.
"""

from __future__ import annotations

import logging
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
from repro.audio import spec_augment
from repro.train import StepOutput, Trainer
from repro.train.cli import load_run_config, parse_train_args
from repro.train.distributed import init_distributed
from repro.train.rng import seed_everything

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
    val_fn = None
    if cfg.data.val_manifest:
        val_utts = load_eval_utterances(cfg.data.val_manifest, vocab)

        def val_fn(m: nn.Module) -> dict[str, float]:
            report = evaluate_utterances(m, cfg, val_utts, batch_size=cfg.data.batch_size)
            return {"wer": report["wer"], "cer": report["cer"]}

    return Trainer(cfg.train, model, make_step_fn(cfg), loader, run_dir, val_fn=val_fn, full_config=cfg, env=env)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_train_args("Train Deep Speech 1/2 with CTC (resumes when --run-dir holds a checkpoint).", argv)
    cfg = load_run_config(DeepSpeechConfig, args)
    trainer = build_trainer(cfg, args.run_dir)
    state = trainer.fit()
    print(f"trained to step {state.step}; checkpoints in {args.run_dir}")
    return 0
