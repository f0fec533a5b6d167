"""Helpers for the mellotron tests: the official-format fixture and a tiny config of our own."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mellotron import MellotronModelConfig, load_checkpoint
from repro.train.config import from_dict

FIXTURES = Path(__file__).parent / "fixtures"


def official_hparams() -> dict:
    return json.loads((FIXTURES / "official_tiny_hparams.json").read_text())


def official_model():
    model = load_checkpoint(FIXTURES / "official_tiny.pt", hparams=official_hparams())
    model.prenet_dropout = False
    return model


def official_outputs() -> dict:
    return torch.load(FIXTURES / "official_outputs.pt", weights_only=True)


def tiny_config(**overrides) -> MellotronModelConfig:
    """The fixture's sizes (fast on CPU), as a config object."""
    return from_dict(MellotronModelConfig, official_hparams() | overrides)


def write_tone_corpus(folder: Path, n: int = 6, sr: int = 22050) -> tuple[Path, Path]:
    """Short voiced tones with words, in the Mellotron filelist format; returns (train list, val list)."""
    import numpy as np

    from repro.audio.io import save_wav

    folder.mkdir(parents=True, exist_ok=True)
    words = ["red boat", "blue moon", "cold river", "small bird", "warm stone", "dark tree", "old road"]
    lines = []
    for i in range(n):
        t = np.arange(int(sr * (0.4 + 0.05 * i))) / sr
        wav = (0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t)).astype(np.float32)
        save_wav(folder / f"u{i}.wav", wav, sr)
        lines.append(f"{folder / f'u{i}.wav'}|{words[i % len(words)]}.|{[19, 205, 7][i % 3]}")
    (folder / "train.txt").write_text("\n".join(lines[:-2]) + "\n")
    (folder / "val.txt").write_text("\n".join(lines[-2:]) + "\n")
    return folder / "train.txt", folder / "val.txt"
