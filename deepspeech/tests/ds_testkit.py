"""Test helpers: a tiny config, and a small on-disk corpus of tone 'speech' in the real manifest format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepspeech.config import DeepSpeechConfig
from ninerepro.audio import save_wav
from ninerepro.train import load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def tiny_config(*overrides: str) -> DeepSpeechConfig:
    """Smaller than configs/tiny.json so tests take seconds on a busy CPU."""
    base = ["model.hidden=16", "model.n_layers=2", "model.conv_channels=[4,4]", "train.device=cpu",
            "train.progress=false", "train.log_every=1", "train.tensorboard=false", "data.num_workers=0",
            "data.batch_size=2", "data.max_duration=0"]
    return load_config(DeepSpeechConfig, CONFIGS / "tiny.json", base + list(overrides))


def tone_utterance(text: str, seed: int, sr: int = 16000) -> np.ndarray:
    """A deterministic signal ~0.12 s per character, one pitch per letter, so the corpus is learnable."""
    rng = np.random.default_rng(seed)
    pieces = []
    for ch in text:
        f = 200.0 + 40.0 * (ord(ch) % 32)
        t = np.arange(int(0.12 * sr)) / sr
        pieces.append(0.3 * np.sin(2 * np.pi * f * t) if ch != " " else np.zeros_like(t))
    wav = np.concatenate(pieces) + 0.01 * rng.standard_normal(sum(len(p) for p in pieces))
    return wav.astype(np.float32)


def write_corpus(folder: Path, texts: list[str], name: str = "train.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        wav = tone_utterance(text, i)
        path = folder / f"utt{i}.wav"
        save_wav(path, wav, 16000)
        lines.append(json.dumps({"audio_filepath": str(path), "duration": len(wav) / 16000, "text": text}))
    manifest = folder / name
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


