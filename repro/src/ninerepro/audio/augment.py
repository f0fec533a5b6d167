"""Waveform augmentation for data loaders: additive noise at an exact SNR, speed perturbation,
random gain (numpy). Tempo perturbation is in ``tempo.py``, SpecAugment masks in ``specaugment.py``.

Every random choice takes an explicit ``np.random.Generator`` so a seeded loader reproduces the same
augmented batch.
"""

from __future__ import annotations

import numpy as np
import soxr


def _check_wave(wav: np.ndarray, name: str) -> np.ndarray:
    wav = np.asarray(wav)
    if wav.ndim != 1 or wav.size == 0 or not np.issubdtype(wav.dtype, np.floating):
        raise ValueError(f"{name}: expected non-empty float audio of shape [T], got {wav.dtype} {wav.shape}")
    return wav


def fit_length(noise: np.ndarray, length: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Tile ``noise`` until it covers ``length`` samples, then crop (at a random offset with ``rng``)."""
    reps = -(-length // len(noise)) + (1 if rng is not None else 0)
    tiled = np.tile(noise, reps)
    start = int(rng.integers(0, len(tiled) - length + 1)) if rng is not None else 0
    return tiled[start:start + length]


def add_noise(wav: np.ndarray, noise: np.ndarray, snr_db: float,
              rng: np.random.Generator | None = None) -> np.ndarray:
    """``wav + g * noise`` with g chosen so that 10 log10(P_wav / P_{g noise}) equals ``snr_db`` exactly.

    Powers are mean squares over the whole signal, computed in float64; the result keeps ``wav``'s
    dtype. The noise is tiled or cropped to the length of ``wav``. It is not clipped: clip afterwards
    if the consumer needs [-1, 1].
    """
    wav, noise = _check_wave(wav, "add_noise: wav"), _check_wave(noise, "add_noise: noise")
    if not np.isfinite(snr_db):
        raise ValueError(f"add_noise: snr_db must be finite, got {snr_db}")
    n = fit_length(noise.astype(np.float64), len(wav), rng)
    p_signal, p_noise = np.mean(wav.astype(np.float64) ** 2), np.mean(n**2)
    if p_signal == 0 or p_noise == 0:
        raise ValueError("add_noise: signal and noise must both have non-zero power for an SNR to exist")
    gain = np.sqrt(p_signal / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (wav.astype(np.float64) + gain * n).astype(wav.dtype)


def random_gain(wav: np.ndarray, rng: np.random.Generator, min_db: float = -6.0,
                max_db: float = 8.0) -> tuple[np.ndarray, float]:
    """Scale by a gain drawn uniformly in [min_db, max_db] dB (deepspeech.pytorch: -6..+8); returns (wav, dB)."""
    wav = _check_wave(wav, "random_gain")
    if min_db > max_db:
        raise ValueError(f"random_gain: min_db {min_db} > max_db {max_db}")
    gain_db = float(rng.uniform(min_db, max_db))
    return (wav * 10.0 ** (gain_db / 20.0)).astype(wav.dtype), gain_db


def speed_perturb(wav: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster, like a tape: duration / factor and every frequency x factor.

    Implemented as resampling by 1 / factor (soxr), the usual Kaldi-style speed perturbation.
    """
    wav = _check_wave(wav, "speed_perturb")
    if not 0.25 <= factor <= 4.0:
        raise ValueError(f"speed_perturb: factor must be in [0.25, 4], got {factor}")
    return soxr.resample(wav.astype(np.float32), 1000.0 * factor, 1000.0, quality="HQ").astype(wav.dtype)
