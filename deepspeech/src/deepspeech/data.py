"""Transcribed-speech data: manifest validation, the dataset, SortaGrad batching and collation.

Manifests are JSON lines (``audio_filepath``, ``duration``, ``text``) as written by
``python -m ninerepro.data.prepare librispeech``. Every transcript is checked against the CTC vocabulary when
the manifest is read, so a bad line fails before training with its file and line number.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import Dataset

from deepspeech.config import AugmentConfig, FeatureConfig
from deepspeech.decode import tidy
from deepspeech.features import compute_features, pad_features
from ninerepro.audio import AudioFileError, add_noise, load_wav, speed_perturb
from ninerepro.data.filelists import DataFormatError
from ninerepro.data.manifests import ASR_KEYS, read_manifest
from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.data.synth.noise import coloured_noise
from ninerepro.text.ctc import CharVocab

log = logging.getLogger(__name__)


@dataclass
class Utterance:
    audio: Path
    duration: float
    text: str
    targets: list[int]
    where: str
    """manifest file and line, for error messages"""


def ctc_min_frames(targets: list[int]) -> int:
    """Fewest CTC frames that can emit ``targets``: one per label plus a blank between equal neighbours."""
    return len(targets) + sum(1 for a, b in itertools.pairwise(targets) if a == b)


def encode_transcript(text: str, vocab: CharVocab, where: str) -> tuple[str, list[int]]:
    """Case-fold to the vocabulary and encode; characters outside it are an error naming ``where``."""
    folded = tidy(text.upper() if vocab.upper else text.lower())
    if not folded:
        raise DataFormatError(f"{where}: empty transcript; drop the line or fill in the text")
    bad = sorted({c for c in folded if c not in vocab.symbols[1:]})
    if bad:
        raise DataFormatError(
            f"{where}: transcript {text!r} has characters outside the CTC vocabulary: {bad}; clean it "
            f"(e.g. ninerepro.text.ctc.normalize_for_ctc, numbers spelled out) or drop the line"
        )
    return folded, vocab.encode(folded)


def load_utterances(path: str | Path, vocab: CharVocab, frames_per_second: float,
                    max_duration: float = 0.0) -> list[Utterance]:
    """Validated utterances of a manifest; those too short for their label, or too long, are dropped
    and counted in the log (a label longer than the output frames would make the CTC loss infinite)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {path} does not exist; create it with "
                                "`python -m ninerepro.data.prepare librispeech` or ninerepro.data.synth")
    kept, too_short, too_long = [], [], 0
    for number, record in enumerate(read_manifest(path, ASR_KEYS), 1):
        where = f"{path}:{number}"
        text, targets = encode_transcript(record["text"], vocab, where)
        audio = Path(record["audio_filepath"])
        audio = audio if audio.is_absolute() else path.parent / audio
        duration = float(record["duration"])
        if max_duration and duration > max_duration:
            too_long += 1
            continue
        if math.floor(duration * frames_per_second) < ctc_min_frames(targets):
            too_short.append(where)
            continue
        kept.append(Utterance(audio, duration, text, targets, where))
    if too_short:
        log.warning("%s: skipped %d utterance(s) whose audio is too short for their transcript (first: %s)",
                    path, len(too_short), ", ".join(too_short[:3]))
    if too_long:
        log.info("%s: skipped %d utterance(s) longer than data.max_duration=%.1f s", path, too_long, max_duration)
    if not kept:
        raise DataFormatError(f"{path}: no usable utterance left after validation")
    return kept


def load_eval_utterances(path: str | Path, vocab: CharVocab, tolerance_s: float = 0.05) -> list[Utterance]:
    """Every utterance of a manifest, for scoring: nothing is dropped, so the denominator is the manifest.

    The reference keeps its raw text (the scorer normalises both sides with ``normalize_for_scoring``, so
    punctuation and case are fine); the duration is re-read from the audio file, with one warning when
    manifest durations disagree with it by more than ``tolerance_s``. A missing or unreadable audio file is
    an error naming the line, never a silently smaller test set.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {path} does not exist; create it with "
                                "`python -m ninerepro.data.prepare librispeech` or ninerepro.data.synth")
    utterances, disagree = [], []
    for number, record in enumerate(read_manifest(path, ASR_KEYS), 1):
        where = f"{path}:{number}"
        audio = Path(record["audio_filepath"])
        audio = audio if audio.is_absolute() else path.parent / audio
        try:
            info = sf.info(str(audio))
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioFileError(f"{where}: cannot read audio {audio} ({e}); fix or remove the line") from None
        duration = info.frames / info.samplerate
        if abs(duration - float(record["duration"])) > tolerance_s:
            disagree.append(f"{where} ({float(record['duration']):.2f} s listed, {duration:.2f} s in the file)")
        text = str(record["text"])
        utterances.append(Utterance(audio, duration, text, vocab.encode(vocab.normalize(text)), where))
    if disagree:
        log.warning("%s: %d manifest duration(s) disagree with the audio; the audio's are used (first: %s)",
                    path, len(disagree), "; ".join(disagree[:3]))
    if not utterances:
        raise DataFormatError(f"{path}: the manifest holds no utterance")
    return utterances


class SpeechDataset(Dataset):
    """(features [F, T], targets, duration) per utterance, with optional noise and speed augmentation."""

    def __init__(self, utterances: list[Utterance], features: FeatureConfig, arch: str,
                 augment: AugmentConfig | None = None) -> None:
        self.utterances, self.features, self.arch = utterances, features, arch
        self.augment = augment or AugmentConfig()
        self.noise_clips = self._load_noise(self.augment.noise_dir)

    def _load_noise(self, folder: str) -> list[np.ndarray]:
        if not folder:
            return []
        clips = [load_wav(p, self.features.sample_rate)[0] for p in sorted(Path(folder).glob("*.wav"))]
        if not clips:
            raise FileNotFoundError(f"data.augment.noise_dir={folder!r} holds no .wav files")
        return clips

    def __len__(self) -> int:
        return len(self.utterances)

    def lengths(self) -> list[int]:
        return [max(1, round(u.duration * 100)) for u in self.utterances]

    def _perturb(self, wav: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        a = self.augment
        if a.speed_prob and rng.random() < a.speed_prob:
            wav = speed_perturb(wav, float(rng.uniform(*a.speed_range)))
        if a.noise_prob and rng.random() < a.noise_prob and np.any(wav):
            if self.noise_clips:
                noise = self.noise_clips[int(rng.integers(len(self.noise_clips)))]
            else:
                noise = coloured_noise(str(rng.choice(["white", "pink", "brown"])), len(wav), int(rng.integers(2**31)))
            wav = np.clip(add_noise(wav, noise, float(rng.uniform(*a.snr_db)), rng), -1.0, 1.0)
        return wav

    def __getitem__(self, index: int) -> tuple[torch.Tensor, list[int], float]:
        u = self.utterances[index]
        try:
            wav, _ = load_wav(u.audio, self.features.sample_rate)
        except AudioFileError as e:
            raise AudioFileError(f"{u.where}: {e}") from None
        if self.augment.speed_prob or self.augment.noise_prob:
            wav = self._perturb(wav, np.random.default_rng(int(torch.randint(2**31, ()).item())))
        return compute_features(wav, self.features, self.arch), u.targets, u.duration


@dataclass
class Batch:
    features: torch.Tensor
    """[B, F, T] zero-padded"""
    lengths: torch.Tensor
    """[B] valid frames"""
    targets: list[list[int]]
    seconds: float

    def to(self, device: torch.device) -> Batch:
        return Batch(self.features.to(device), self.lengths.to(device), self.targets, self.seconds)


def collate(items: list[tuple[torch.Tensor, list[int], float]]) -> Batch:
    features, lengths = pad_features([f for f, _, _ in items])
    return Batch(features, lengths, [t for _, t, _ in items], float(sum(d for _, _, d in items)))


class SortaGradSampler(BucketBatchSampler):
    """BucketBatchSampler whose first epoch runs batches in ascending length order (DS2 §3.3, SortaGrad).

    Later epochs are the parent's shuffled length buckets. Resume and DDP slicing are inherited.
    """

    def __init__(self, lengths: list[int], batch_size: int, *, sortagrad: bool = True, **kwargs) -> None:
        super().__init__(lengths, batch_size, **kwargs)
        self.sortagrad = sortagrad

    def global_batches(self) -> list[list[int]]:
        if not (self.sortagrad and self.epoch == 0):
            return super().global_batches()
        order = torch.sort(self.lengths, stable=True).indices
        gbs, n_batches = self.global_batch_size, len(self)
        needed = n_batches * gbs
        if needed > len(order):  # pad the last batch with the longest items so every rank gets a full batch
            order = torch.cat([order, order.flip(0)[: needed - len(order)]])
        return [order[i * gbs : (i + 1) * gbs].tolist() for i in range(n_batches)]
