"""Generated background noise: coloured noise (white, pink, brown) and multi-talker babble.

Coloured noise has power spectral density proportional to 1/f^alpha (white 0, pink 1, brown 2); it is
made by shaping the spectrum of seeded Gaussian noise. Babble is several synthetic talkers summed,
which is the hardest "noise" for a keyword spotter because it is speech itself.
"""

from __future__ import annotations

import numpy as np

NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}
TARGET_RMS = 0.1


def coloured_noise(colour: str, n_samples: int, seed: int) -> np.ndarray:
    """``n_samples`` of float32 noise with PSD ~ 1/f^alpha for ``colour``, scaled to RMS 0.1."""
    if colour not in NOISE_COLOURS:
        raise ValueError(f"unknown noise colour {colour!r}; use one of {sorted(NOISE_COLOURS)}")
    white = np.random.default_rng([seed, 31, n_samples]).standard_normal(n_samples)
    spectrum = np.fft.rfft(white)
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0  # leave DC unscaled, then remove it below
    spectrum *= freqs ** (-NOISE_COLOURS[colour] / 2.0)  # amplitude ~ f^(-alpha/2) => power ~ f^(-alpha)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=n_samples)
    return (noise * (TARGET_RMS / np.sqrt(np.mean(noise**2)))).astype(np.float32)


def babble(talkers: list[np.ndarray], n_samples: int) -> np.ndarray:
    """Sum talkers (each looped to ``n_samples``), offset so they do not start together; RMS 0.1."""
    if not talkers:
        raise ValueError("babble needs at least one talker")
    mix = np.zeros(n_samples, dtype=np.float64)
    for k, wav in enumerate(talkers):
        looped = np.resize(wav, n_samples + len(wav))  # np.resize repeats the array cyclically
        shift = (k * len(wav)) // len(talkers)
        mix += looped[shift:shift + n_samples]
    return (mix * (TARGET_RMS / np.sqrt(np.mean(mix**2)))).astype(np.float32)
