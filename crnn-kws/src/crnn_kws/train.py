"""Training: random labelled windows -> batched PCEN features -> CRNN -> cross-entropy, run by ninerepro.train.

The Trainer supplies torchrun/DDP, AMP, checkpoints with exact resume and logging; this module builds the
pieces. Features are computed inside the step so they are batched (and on the GPU when there is one).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from crnn_kws.commands import CommandsSplit, CommandsWindowDataset
from crnn_kws.config import KwsConfig
from crnn_kws.data import SplitAudio, WindowDataset
from crnn_kws.features import energies, normalise
from crnn_kws.loss import window_loss
from crnn_kws.model import build_model
from ninerepro.audio import spec_augment
from ninerepro.train import StepOutput, Trainer
from ninerepro.train.cli import load_run_config, parse_train_args
from ninerepro.train.distributed import init_distributed
from ninerepro.train.rng import seed_everything

log = logging.getLogger(__name__)


def make_step_fn(cfg: KwsConfig):
    """step_fn(model, (wav [B, N], labels [B])) -> StepOutput with loss and window accuracy."""
    data, feats = cfg.data, cfg.features

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        wav, labels = batch
        with torch.no_grad(), torch.autocast(wav.device.type, enabled=False):
            x = normalise(energies(wav.float(), feats), feats)  # [B, n_mels, n_frames]
            if data.spec_augment and model.training:
                x = spec_augment(x.cpu(), freq_width=data.freq_width, time_width=data.time_width).to(x.device)
        loss, accuracy = window_loss(model(x), labels)
        return StepOutput(loss=loss, metrics={"accuracy": accuracy.detach()}, samples=len(labels),
                          audio_seconds=len(labels) * feats.window_s)

    return step


def build_trainer(cfg: KwsConfig, run_dir: str | Path) -> Trainer:
    """Model, window loader and Trainer for ``cfg`` (rank and device from torchrun's environment, if any)."""
    if not cfg.data.corpus:
        raise ValueError("data.corpus is empty; pass data.corpus=FOLDER (a corpus from crnn_kws.corpus, or the "
                         "Speech Commands folder with configs/speech_commands12.json)")
    env = init_distributed(cfg.train.device)
    sr = cfg.features.sample_rate
    if cfg.data.task == "speech_commands":
        dataset: Dataset = CommandsWindowDataset(CommandsSplit.load(cfg.data.corpus, "train", sr), cfg.data,
                                                 cfg.features)
    else:
        dataset = WindowDataset(SplitAudio.load(cfg.data.corpus, "train", sr, cfg.data.max_speech_files),
                                cfg.data, cfg.features)
    loader = DataLoader(dataset, batch_size=cfg.data.batch_size, shuffle=False, drop_last=True)
    # The Trainer seeds only once it exists, after the weights are drawn: seed here so train.seed fixes them.
    seed_everything(cfg.train.seed)
    model = build_model(cfg)
    return Trainer(cfg.train, model, make_step_fn(cfg), loader, run_dir, full_config=cfg, env=env)


def main(argv: list[str] | None = None) -> int:
    from crnn_kws.cli import run_guarded

    def body(args_list: list[str] | None) -> int:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        args = parse_train_args("Train the CRNN keyword spotter (resumes when --run-dir holds a checkpoint).",
                                args_list)
        state = build_trainer(load_run_config(KwsConfig, args), args.run_dir).fit()
        print(f"trained to step {state.step}; checkpoints in {args.run_dir}")
        return 0

    return run_guarded(body, argv)
