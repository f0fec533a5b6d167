"""The one record type every corpus reader returns, and helpers shared by the readers and preparers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ninerepro.data.filelists import DataFormatError, numbered_lines


@dataclass(frozen=True)
class CorpusItem:
    """One utterance of a corpus as found on disk.

    Attributes:
        audio_path: the audio file (wav or flac).
        text: what is said, in the corpus's normalised form (LJSpeech column 3, LibriTTS
            ``.normalized.txt``, LibriSpeech transcript, the Speech Commands word).
        speaker: the corpus's raw speaker id as a string ("19", a Speech Commands hash, "LJ").
        utt_id: the corpus's utterance id (file stem).
        original_text: the unnormalised text where the corpus has one (LJSpeech column 2, LibriTTS
            ``.original.txt``), else None.
        split: the subset (e.g. "train-clean-100") or Speech Commands split, where known.
    """

    audio_path: Path
    text: str
    speaker: str
    utt_id: str
    original_text: str | None = None
    split: str | None = None


def require_dir(path: str | os.PathLike, what: str, fix: str) -> Path:
    """Return ``path`` as a Path if it is a directory, else raise naming ``what`` it should be and the fix."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: not a directory; expected {what}. {fix}")
    return path


def check_audio_file(path: Path, where: str) -> None:
    """The audio file exists and its header reads as non-empty audio (cheap: no samples are decoded)."""
    if not path.is_file():
        raise DataFormatError(f"{where}: audio file {path} is missing; re-extract the dataset")
    try:
        frames = sf.info(str(path)).frames
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DataFormatError(f"{where}: audio file {path} is unreadable ({err}); re-extract or remove it") from None
    if frames <= 0:
        raise DataFormatError(f"{where}: audio file {path} holds no samples; re-extract or remove it")


def read_single_line(path: Path, what: str) -> str:
    """The stripped first line of a one-line UTF-8 text file, with errors naming the file (line 1)."""
    if not path.is_file():
        raise DataFormatError(f"{path}: {what} file is missing")
    lines = [line for _, line in numbered_lines(path)]
    if not lines or not lines[0].strip():
        raise DataFormatError(f"{path}:1: empty {what}")
    return lines[0].strip()


def split_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Sizes (train, val, test) for n items; val and test get at least one item each when n >= 3."""
    if n < 3:
        raise ValueError(f"need at least 3 utterances to make train/val/test lists, got {n}")
    val = max(1, round(n * val_fraction)) if val_fraction > 0 else 0
    test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    if val + test >= n:
        raise ValueError(f"val ({val}) + test ({test}) leave no training data out of {n} utterances")
    return n - val - test, val, test


def deterministic_split(
    items: Sequence[CorpusItem], val_fraction: float, test_fraction: float, seed: int
) -> tuple[list[CorpusItem], list[CorpusItem], list[CorpusItem]]:
    """Shuffle by ``seed`` after sorting by id, so the split depends only on the ids and the seed."""
    ordered = sorted(items, key=lambda item: item.utt_id)
    order = np.random.default_rng(seed).permutation(len(ordered))
    shuffled = [ordered[int(i)] for i in order]
    _, val, test = split_counts(len(shuffled), val_fraction, test_fraction)
    test_items, val_items = shuffled[:test], shuffled[test:test + val]
    train_items = sorted(shuffled[test + val:], key=lambda item: item.utt_id)
    return train_items, sorted(val_items, key=lambda i: i.utt_id), sorted(test_items, key=lambda i: i.utt_id)
