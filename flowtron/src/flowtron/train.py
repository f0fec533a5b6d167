"""Training Flowtron with ``ninerepro.train.Trainer``: ``flowtron-train -c configs/ljs.json [key=value ...]``.

Generic machinery (torchrun/DDP, AMP with loss scaling, exact resume including the learning rate, TensorBoard,
metrics.jsonl) is ``ninerepro.train``'s. This module says what a step is (NLL + gate + 0.01 x attention CTC from
``loss.ctc_loss_start_iter`` on), what validation is (the loss on held-out clips, each flow's alignment of the
first clip as a picture with its diagonality, and a sample from z through Griffin-Lim), how warm starts work
(``flowtron.warm_start``), and saves the speaker table with the config so inference uses the training list's.

Unlike the official ``train.py``, resuming keeps the saved learning rate and schedule: the official forces the
learning rate back to the config value on every restart (flowtron #39, #49).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from flowtron.config import FlowtronConfig
from flowtron.data import Batch, FlowtronDataset, TextToIds, collate, read_flowtron_list, to_vocoder_frames
from flowtron.loss import flowtron_losses
from flowtron.model import Flowtron
from flowtron.warm_start import freeze_all_but, warm_start
from ninerepro.data.filelists import speaker_table
from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.train import DistEnv, StepOutput, Trainer, init_distributed
from ninerepro.train.cli import train_main
from ninerepro.tts.alignment import alignment_scores
from ninerepro.tts.vocoder import GriffinLimVocoder
from ninerepro.viz.matrices import alignment_image

log = logging.getLogger(__name__)


@dataclass
class FlowtronStep:
    """One micro-batch's loss. Knows the trainer (set after it is built) to switch the CTC term on at its step."""

    cfg: FlowtronConfig
    trainer: Trainer | None = None

    @property
    def ctc_on(self) -> bool:
        step = self.trainer.state.step if self.trainer is not None else 0
        return self.cfg.loss.use_ctc_loss and step >= self.cfg.loss.ctc_loss_start_iter

    def __call__(self, model: nn.Module, b: Batch) -> StepOutput:
        out = model(b.mel, b.speaker_ids, b.text, b.in_lens, b.out_lens, b.attn_prior)
        ctc_on = self.ctc_on
        losses = flowtron_losses(out, b.gate, b.in_lens, b.out_lens, self.cfg.loss.sigma, self.cfg.loss.gate_loss,
                                 use_ctc=ctc_on, blank_logprob=self.cfg.loss.blank_logprob)
        total = losses.nll + losses.gate
        if ctc_on:
            total = total + self.cfg.loss.ctc_loss_weight * losses.ctc
        seconds = float(b.out_lens.sum()) * self.cfg.data.hop_length / self.cfg.data.sampling_rate
        return StepOutput(loss=total, metrics={"nll": losses.nll, "gate": losses.gate, "ctc": losses.ctc},
                          samples=b.text.shape[0], audio_seconds=seconds)


def time_ordered(attention: list[torch.Tensor], item: int, n_out: int, n_in: int) -> list[torch.Tensor]:
    """Per flow [n_out, n_in] of one batch item; reversed flows' rows flipped back to time order, so every
    picture and score reads the same way."""
    out = [a[item, :n_out, :n_in].float().cpu() for a in attention]
    return [a.flip(0) if k % 2 else a for k, a in enumerate(out)]


@dataclass
class Validator:
    """Mean loss over the validation clips and each flow's alignment diagonality over all of them.

    The diagonality is scored twice: ``align_diagonal_flow{k}`` without the attention prior (what inference sees:
    the attention the model has learned) and ``align_diagonal_prior_flow{k}`` with it (what training sees, which
    the static beta-binomial prior alone already makes near-diagonal). Only the first is evidence that attention
    formed. The first clip's no-prior alignments are the pictures."""

    loader: DataLoader
    cfg: FlowtronConfig
    env: DistEnv
    trainer: Trainer | None = None
    last_alignments: list[np.ndarray] = field(default_factory=list, repr=False)

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        from ninerepro.train.transfer import move_to_device

        device = next(model.parameters()).device
        total, count, first = 0.0, 0, None
        n_flows = self.cfg.model.n_flows
        diagonal = {"": [[] for _ in range(n_flows)], "prior_": [[] for _ in range(n_flows)]}
        for b in self.loader:
            b = move_to_device(b, device)
            out = model(b.mel, b.speaker_ids, b.text, b.in_lens, b.out_lens, b.attn_prior)
            losses = flowtron_losses(out, b.gate, b.in_lens, b.out_lens, self.cfg.loss.sigma, self.cfg.loss.gate_loss,
                                     use_ctc=self.cfg.loss.use_ctc_loss, blank_logprob=self.cfg.loss.blank_logprob)
            total += float(losses.nll + losses.gate) * len(b.text)
            count += len(b.text)
            free = out if b.attn_prior is None else model(b.mel, b.speaker_ids, b.text, b.in_lens, b.out_lens, None)
            for key, o in (("", free), ("prior_", out if b.attn_prior is not None else None)):
                if o is None:
                    continue
                for i in range(len(b.text)):
                    for k, a in enumerate(time_ordered(o.attention, i, int(b.out_lens[i]), int(b.in_lens[i]))):
                        diagonal[key][k].append(alignment_scores(a)["diagonal"])
            if first is None:
                n_in, n_out = int(b.in_lens[0]), int(b.out_lens[0])
                first = time_ordered(free.attention, 0, n_out, n_in)
                first_item = (b.speaker_ids[:1], b.text[:1, :n_in], n_out)
        self.last_alignments = [a.numpy() for a in first]
        metrics = {"loss": total / max(count, 1)}
        for key, per_flow in diagonal.items():
            for k, scores in enumerate(per_flow):
                if scores:
                    metrics[f"align_diagonal_{key}flow{k}"] = float(np.mean(scores))
        logger = self.trainer.logger if self.trainer is not None else None
        if logger is not None and self.env.is_main:
            step = self.trainer.state.step
            for k, a in enumerate(self.last_alignments):
                logger.image(f"val/alignment_flow{k}", alignment_image(a), step)
            raw = model.module if hasattr(model, "module") else model
            speaker, text, n_out = first_item
            z = torch.randn(1, self.cfg.model.n_mel_channels, n_out, device=device) * 0.5
            mel, _ = raw.infer(z, speaker, text, gate_threshold=0.5)
            if mel.shape[2] >= 8:  # an early model's gate may stop after a frame or two: nothing to hear
                wav = GriffinLimVocoder()(to_vocoder_frames(mel, self.cfg.data))
                logger.audio("val/sample_sigma0.5_griffin_lim", wav, self.cfg.data.sampling_rate, step)
        return metrics


def build_model(cfg: FlowtronConfig) -> Flowtron:
    torch.manual_seed(cfg.train.seed)
    model = Flowtron(cfg.model)
    if cfg.warm_start.checkpoint:
        warm_start(model, cfg.warm_start.checkpoint, cfg.warm_start.include_layers, cfg.warm_start.ignore_layers)
    if cfg.warm_start.finetune_layers:
        freeze_all_but(model, cfg.warm_start.finetune_layers)
    return model


def build_data(cfg: FlowtronConfig, env: DistEnv, audio_root: Path | None = None, preload: bool = False):
    train_entries = read_flowtron_list(cfg.data.training_files, audio_root)
    cfg.speakers = cfg.speakers or speaker_table(train_entries)
    if len(cfg.speakers) > cfg.model.n_speakers and not cfg.model.dummy_speaker_embedding:
        raise ValueError(f"{cfg.data.training_files}: {len(cfg.speakers)} speakers but model.n_speakers="
                         f"{cfg.model.n_speakers}; set model.n_speakers={len(cfg.speakers)}")
    text_to_ids = TextToIds(cfg.data.text_cleaners, cfg.data.p_arpabet, cfg.data.keep_ambiguous)
    train_set = FlowtronDataset(train_entries, cfg.data, cfg.speakers, text_to_ids, audio_root, preload,
                                seed=cfg.data.seed + env.rank)
    sampler = BucketBatchSampler(None, cfg.data.batch_size, num_items=len(train_set), num_replicas=env.world_size,
                                 rank=env.rank, shuffle=True, seed=cfg.train.seed)
    train_loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate, num_workers=cfg.data.num_workers)
    val_loader = None
    if cfg.data.validation_files:
        val_entries = read_flowtron_list(cfg.data.validation_files, audio_root)
        val_set = FlowtronDataset(val_entries, cfg.data, cfg.speakers, text_to_ids, audio_root, preload,
                                  seed=cfg.data.seed + 10_000)
        val_loader = DataLoader(val_set, batch_size=cfg.data.batch_size, collate_fn=collate)
    return train_loader, val_loader


def run(cfg: FlowtronConfig, run_dir: Path, env: DistEnv | None = None, audio_root: Path | None = None,
        preload: bool = False) -> Trainer:
    env = env or init_distributed(cfg.train.device)
    train_loader, val_loader = build_data(cfg, env, audio_root, preload)
    model = build_model(cfg)
    step = FlowtronStep(cfg)
    validator = Validator(val_loader, cfg, env) if val_loader is not None else None
    trainer = Trainer(cfg.train, model, step, train_loader, run_dir, val_fn=validator, full_config=cfg, env=env)
    step.trainer = trainer
    if validator is not None:
        validator.trainer = trainer
    if env.is_main:
        log.info("flowtron: %d flow(s), %d speaker(s), %s parameters, global batch %d (%d per process x %d), "
                 "precision %s", cfg.model.n_flows, len(cfg.speakers), f"{model.parameter_count():,}",
                 cfg.data.batch_size * env.world_size * cfg.train.grad_accum, cfg.data.batch_size, env.world_size,
                 trainer.precision)
    trainer.fit()
    return trainer


def main(argv: list[str] | None = None) -> int:
    from flowtron.errors import user_errors

    return train_main("flowtron-train", "Train Flowtron (runs unchanged under torchrun).",
                      FlowtronConfig, run, user_errors, argv)


if __name__ == "__main__":
    sys.exit(main())
