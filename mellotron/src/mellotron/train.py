"""Training Mellotron with ``ninerepro.train.Trainer``: ``python train.py -c configs/mellotron.json [key=value ...]``.

Generic machinery (torchrun/DDP, AMP, exact resume, TensorBoard, metrics.jsonl) is ``ninerepro.train``'s. This module
says what a step is (the Tacotron 2 loss of a teacher-forced batch), what validation is (the loss on held-out
clips, plus an alignment picture and its diagonality in TensorBoard), how a warm start works (official or our
checkpoint, ``warm_start.ignore_layers`` left at their fresh initialisation: the maintainers' recipe trains a
single speaker until attention forms, then LibriTTS with a new speaker table), and saves the speaker table with
the config, so inference uses the training list's mapping.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from mellotron.config import MellotronConfig
from mellotron.data import Batch, MellotronDataset, TextToIds, collate, read_mellotron_list
from mellotron.model import Mellotron
from mellotron.warm_start import warm_start
from ninerepro.data.filelists import speaker_table
from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.train import DistEnv, StepOutput, Trainer, init_distributed
from ninerepro.train.cli import train_main
from ninerepro.tts.alignment import alignment_scores
from ninerepro.tts.loss import guided_attention_loss, tacotron2_loss
from ninerepro.tts.vocoder import GriffinLimVocoder
from ninerepro.viz.matrices import alignment_image

log = logging.getLogger(__name__)
StepFn = Callable[[nn.Module, Batch], StepOutput]


def make_step_fn(cfg: MellotronConfig) -> StepFn:
    seconds_per_frame = cfg.data.hop_length / cfg.data.sampling_rate

    guide = cfg.loss.guided_attention_weight

    def step(model: nn.Module, b: Batch) -> StepOutput:
        mel, mel_post, gate, align = model(b.text, b.text_lengths, b.mel, b.output_lengths, b.speaker_ids, b.f0)
        losses = tacotron2_loss(mel, mel_post, gate, b.mel, b.gate)
        metrics = {"mel": losses.mel, "mel_postnet": losses.mel_postnet, "gate": losses.gate}
        total = losses.total
        if guide > 0:
            metrics["guided_attention"] = guided_attention_loss(align, b.text_lengths, b.output_lengths,
                                                                cfg.loss.guided_attention_sigma)
            total = total + guide * metrics["guided_attention"]
        return StepOutput(loss=total, metrics=metrics,
                          samples=b.text.shape[0], audio_seconds=float(b.output_lengths.sum()) * seconds_per_frame)

    return step


@dataclass
class Validator:
    """Mean loss over the validation clips, the first clip's alignment scores; its picture in TensorBoard."""

    loader: DataLoader
    env: DistEnv
    trainer: Trainer | None = None
    last_alignment: np.ndarray | None = field(default=None, repr=False)

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        from ninerepro.train.transfer import move_to_device

        device = next(model.parameters()).device
        total, count, first = 0.0, 0, None
        for b in self.loader:
            b = move_to_device(b, device)
            mel, mel_post, gate, align = model(b.text, b.text_lengths, b.mel, b.output_lengths, b.speaker_ids, b.f0)
            total += float(tacotron2_loss(mel, mel_post, gate, b.mel, b.gate).total) * len(b.text)
            count += len(b.text)
            if first is None:
                n_in, n_out = int(b.text_lengths[0]), int(b.output_lengths[0])
                first = align[0, :n_out, :n_in].float().cpu()
                first_mel = mel_post[0, :, :n_out].float().cpu()
        scores = alignment_scores(first)
        self.last_alignment = first.numpy()
        logger = self.trainer.logger if self.trainer is not None else None
        if logger is not None and self.env.is_main:
            step = self.trainer.state.step
            logger.image("val/alignment", alignment_image(self.last_alignment), step)
            # teacher-forced output of the first clip, through Griffin-Lim (no vocoder checkpoint needed)
            logger.audio("val/teacher_forced_griffin_lim", GriffinLimVocoder()(first_mel), 22050, step)
        return {"loss": total / max(count, 1), "align_focus": scores["focus"], "align_diagonal": scores["diagonal"]}


def build_model(cfg: MellotronConfig) -> Mellotron:
    torch.manual_seed(cfg.train.seed)
    model = Mellotron(cfg.model)
    if cfg.warm_start.checkpoint:
        warm_start(model, cfg.warm_start.checkpoint, cfg.warm_start.ignore_layers)
    return model


def build_data(cfg: MellotronConfig, env: DistEnv, audio_root: Path | None = None, preload: bool = False):
    train_entries = read_mellotron_list(cfg.data.training_files, audio_root)
    cfg.speakers = cfg.speakers or speaker_table(train_entries)
    if len(cfg.speakers) > cfg.model.n_speakers:
        raise ValueError(f"{cfg.data.training_files}: {len(cfg.speakers)} speakers but model.n_speakers="
                         f"{cfg.model.n_speakers}; set model.n_speakers={len(cfg.speakers)}")
    text_to_ids = TextToIds(cfg.data.text_cleaners, cfg.data.p_arpabet)
    train_set = MellotronDataset(train_entries, cfg.data, cfg.speakers, text_to_ids, audio_root, preload)
    sampler = BucketBatchSampler(None, cfg.data.batch_size, num_items=len(train_set), num_replicas=env.world_size,
                                 rank=env.rank, shuffle=True, seed=cfg.train.seed)
    train_loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate, num_workers=cfg.data.num_workers)
    val_loader = None
    if cfg.data.validation_files:
        val_entries = read_mellotron_list(cfg.data.validation_files, audio_root)
        val_set = MellotronDataset(val_entries, cfg.data, cfg.speakers, text_to_ids, audio_root, preload)
        val_loader = DataLoader(val_set, batch_size=cfg.data.batch_size, collate_fn=collate)
    return train_loader, val_loader


def run(cfg: MellotronConfig, run_dir: Path, env: DistEnv | None = None, audio_root: Path | None = None,
        preload: bool = False) -> Trainer:
    env = env or init_distributed(cfg.train.device)
    train_loader, val_loader = build_data(cfg, env, audio_root, preload)
    model = build_model(cfg)
    validator = Validator(val_loader, env) if val_loader is not None else None
    trainer = Trainer(cfg.train, model, make_step_fn(cfg), train_loader, run_dir, val_fn=validator,
                      full_config=cfg, env=env)
    if validator is not None:
        validator.trainer = trainer
    trainer.fit()
    return trainer


def main(argv: list[str] | None = None) -> int:
    from mellotron.errors import user_errors

    return train_main("mellotron-train", "Train Mellotron (runs unchanged under torchrun).",
                      MellotronConfig, run, user_errors, argv)


if __name__ == "__main__":
    sys.exit(main())
