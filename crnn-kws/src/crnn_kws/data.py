"""Training windows for the binary detector: aligned positives, speech and noise negatives, noise at an SNR.

Each item is one window of audio with label 1 (the wake phrase lies wholly inside it at a random offset, the
timing jitter of paper §3.1) or 0 (a confusable phrase placed the same way, a crop of read speech, or noise
alone). Classes are balanced by drawing the label first (``data.positive_fraction``), since long negative audio
would otherwise swamp the few positives. Additive noise at an SNR drawn from [-5, 15] dB goes through
``ninerepro.audio.add_noise``. Features are computed per batch in the step function (``train.py``), where they are
batched and can run on the GPU.

Randomness comes from torch's global generator (one draw per item seeds a numpy generator), so the Trainer's
seeding and its checkpointed RNG state make a resumed run draw the same windows as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from crnn_kws.config import DataConfig, FeatureConfig
from crnn_kws.corpus import MANIFEST, SPEECH_SUBSETS
from ninerepro.audio import add_noise, load_wav, random_gain
from ninerepro.data.synth.speech_commands import NOISE_FLOOR_RMS, fit_to_clip

FLOOR_RMS = NOISE_FLOOR_RMS  # a faint hiss under every window: real audio is never digital silence


class CorpusError(ValueError):
    """The corpus folder is missing, empty, or was made for other features."""


def read_clips(folder: Path, sr: int) -> list[np.ndarray]:
    """Every ``*.wav`` in ``folder`` (sorted), refusing other sample rates by file name."""
    return [load_wav(p, sr)[0] for p in sorted(folder.glob("*.wav"))]


@dataclass
class SplitAudio:
    """One split's audio in memory: keyword clips, confusable clips, read speech, noise recordings."""

    positives: list[np.ndarray]
    confusables: list[np.ndarray]
    speech: list[np.ndarray]
    noises: list[np.ndarray]

    @classmethod
    def load(cls, corpus: str | Path, split: str, sr: int, max_speech_files: int = 0) -> SplitAudio:
        """Read one split; ``max_speech_files`` > 0 keeps that many utterances spread over the sorted list."""
        root = Path(corpus)
        if not (root / MANIFEST).is_file():
            raise CorpusError(f"{root}: no {MANIFEST}; build the corpus with `python -m crnn_kws.demo` (or "
                              "crnn_kws.corpus.write_corpus) and pass data.corpus=THAT_FOLDER")
        speech = sorted((root / "LibriSpeech" / SPEECH_SUBSETS[split]).rglob("*.flac"))
        if 0 < max_speech_files < len(speech):
            speech = [speech[i] for i in np.linspace(0, len(speech) - 1, max_speech_files).round().astype(int)]
        audio = cls(read_clips(root / "positives" / split, sr), read_clips(root / "confusables" / split, sr),
                    [load_wav(p, sr)[0] for p in speech], read_clips(root / "noise" / split, sr))
        for name in ("positives", "speech", "noises"):
            if not getattr(audio, name):
                raise CorpusError(f"{root}: the {split} split has no {name} clips; rebuild the corpus")
        return audio


def crop(audio: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample stretch of ``audio`` (tiled when it is shorter)."""
    if len(audio) < length:
        audio = np.tile(audio, -(-length // len(audio)))
    start = int(rng.integers(0, len(audio) - length + 1))
    return audio[start:start + length].astype(np.float32)


def finish(wav: np.ndarray, noise: np.ndarray | None, snr_db: float | None) -> np.ndarray:
    """Add ``noise`` at ``snr_db`` (when given), then keep samples inside [-1, 1]."""
    if noise is not None and snr_db is not None:
        wav = add_noise(wav, noise, snr_db)
    peak = float(np.max(np.abs(wav)))
    return (wav / peak * 0.99 if peak > 0.99 else wav).astype(np.float32)


class WindowDataset(Dataset):
    """``data.epoch_windows`` random labelled windows per epoch (an epoch is bookkeeping, not a pass)."""

    def __init__(self, audio: SplitAudio, data: DataConfig, features: FeatureConfig) -> None:
        self.audio, self.cfg, self.n = audio, data, features.window_samples

    def __len__(self) -> int:
        return self.cfg.epoch_windows

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
        a, c, n = self.audio, self.cfg, self.n
        label = int(rng.random() < c.positive_fraction)
        if label:
            wav = fit_to_clip(a.positives[rng.integers(len(a.positives))], rng, n, FLOOR_RMS)
        elif a.confusables and rng.random() < c.confusable_fraction:
            wav = fit_to_clip(a.confusables[rng.integers(len(a.confusables))], rng, n, FLOOR_RMS)
        elif rng.random() < 0.7:
            wav = crop(a.speech[rng.integers(len(a.speech))], n, rng)
        else:  # noise alone, at a random level
            wav = crop(a.noises[rng.integers(len(a.noises))], n, rng) * float(rng.uniform(0.05, 1.0))
        wav, _ = random_gain(wav + (rng.standard_normal(n) * FLOOR_RMS).astype(np.float32), rng, -10.0, 6.0)
        noisy = rng.random() < c.noise_probability
        noise = crop(a.noises[rng.integers(len(a.noises))], n, rng) if noisy else None
        snr = float(rng.uniform(c.snr_min_db, c.snr_max_db)) if noisy else None
        return torch.from_numpy(finish(wav, noise, snr)), label
