"""Reading and writing audio files (wav / flac) with an explicit sample-rate contract.

``load_wav(path, sr=22050)`` refuses a file at another rate instead of resampling it behind the
caller's back; ``save_wav`` writes atomically so a crash never leaves a truncated file that a later
run would read as valid audio.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ninerepro.atomic import atomic_open
from ninerepro.audio.errors import AudioFileError, SampleRateError

_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def load_wav(path: str | os.PathLike, sr: int | None = None, *, mono: bool = True) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 samples in [-1, 1] and return ``(wav, sample_rate)``.

    ``wav`` is ``[T]`` when ``mono`` (channels averaged), else ``[T, C]``. With ``sr`` given, a file at
    another rate raises :class:`SampleRateError`; an unreadable or empty file raises :class:`AudioFileError`.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such audio file")
    try:
        wav, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioFileError(
            f"{path}: cannot decode audio ({err}); the file is corrupt or not a wav/flac file"
        ) from err
    if wav.shape[0] == 0:
        raise AudioFileError(f"{path}: the file holds 0 samples; re-create or remove it")
    if sr is not None and file_sr != sr:
        raise SampleRateError(
            f"{path}: sample rate is {file_sr} Hz but {sr} Hz is expected; resample it first with "
            f"`python -m ninerepro.audio.resample {path} OUT.wav --sr {sr}` "
            f"(or ninerepro.audio.resample(wav, {file_sr}, {sr}) in code)"
        )
    if mono:
        wav = wav.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(wav, dtype=np.float32), int(file_sr)


def save_wav(path: str | os.PathLike, wav: np.ndarray, sr: int, subtype: str = "PCM_16") -> None:
    """Write ``wav`` ([T] or [T, C], float in [-1, 1]; values outside are clipped) to ``path`` atomically.

    The format follows the suffix (.wav or .flac). The data goes to a temporary file in the same
    directory first and is then renamed over ``path``.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AudioFileError(f"{path}: unsupported suffix {path.suffix!r}; use one of {sorted(_FORMATS)}")
    wav = np.asarray(wav)
    if wav.ndim not in (1, 2) or wav.size == 0:
        raise ValueError(f"{path}: expected a non-empty [T] or [T, C] array, got shape {wav.shape}")
    if not np.issubdtype(wav.dtype, np.floating):
        raise ValueError(f"{path}: expected float samples in [-1, 1], got dtype {wav.dtype}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"{path}: sample rate must be a positive int, got {sr!r}")
    data = np.clip(wav, -1.0, 1.0)
    with atomic_open(path, "wb") as handle:
        sf.write(handle, data, int(sr), subtype=subtype, format=fmt)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``wav`` ([T] or [T, C]) from ``orig_sr`` to ``target_sr`` with soxr's HQ filter.

    soxr is deterministic (same input, same output) and band-limits correctly, so a 22050 Hz corpus
    taken to 16 kHz has no aliasing above 8 kHz. Returns float32.
    """
    for name, value in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"resample: {name} must be a positive int, got {value!r}")
    wav = np.asarray(wav)
    if wav.ndim not in (1, 2):
        raise ValueError(f"resample: expected a [T] or [T, C] array, got shape {wav.shape}")
    if orig_sr == target_sr:
        return wav.astype(np.float32, copy=True)
    out = soxr.resample(wav.astype(np.float32), int(orig_sr), int(target_sr), quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)
