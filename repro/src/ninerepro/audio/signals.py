"""Synthetic test signals with known content, for tests, benchmarks and demos.

Real speech is not shipped with the toolkit, so checks use signals whose properties are known in
advance: a tone (known F0), a chirp (energy sweeping every band), a vowel (a pulse train through
formant resonators: harmonic, speech-like spectrum with a known F0) and white noise.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

# Formant centre frequencies and bandwidths (Hz) of an /a/-like vowel.
_VOWEL_FORMANTS = ((730.0, 90.0), (1090.0, 110.0), (2440.0, 170.0), (3400.0, 250.0))


def tone(freq: float, seconds: float, sr: int, amplitude: float = 0.5) -> np.ndarray:
    """Sine of ``freq`` Hz, float32."""
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(seconds: float, sr: int, f0: float = 50.0, f1: float | None = None, amplitude: float = 0.3) -> np.ndarray:
    """Logarithmic sweep from ``f0`` to ``f1`` (default 0.45 sr), float32."""
    t = np.arange(round(seconds * sr)) / sr
    f1 = 0.45 * sr if f1 is None else f1
    return (amplitude * scipy.signal.chirp(t, f0, t[-1], f1, method="logarithmic")).astype(np.float32)


def vowel(f0: float, seconds: float, sr: int, amplitude: float = 0.5) -> np.ndarray:
    """Impulse train at ``f0`` Hz through four formant resonators, peak-normalised to ``amplitude``."""
    n = round(seconds * sr)
    phase = np.cumsum(np.full(n, f0 / sr))
    pulses = np.diff(np.floor(phase), prepend=0.0)  # 1 at the start of each glottal period
    out = pulses
    for centre, bandwidth in _VOWEL_FORMANTS:
        radius = np.exp(-np.pi * bandwidth / sr)
        theta = 2 * np.pi * centre / sr
        out = scipy.signal.lfilter([1.0 - radius], [1.0, -2 * radius * np.cos(theta), radius**2], out)
    out = out - out.mean()
    return (amplitude * out / np.max(np.abs(out))).astype(np.float32)


def speechlike(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Chirp + vowel (F0 gliding 110-220 Hz in segments) + low white noise, within [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    segments = []
    for i, f0 in enumerate(np.linspace(110.0, 220.0, max(1, int(seconds * 4)))):
        segments.append(vowel(f0, seconds / max(1, int(seconds * 4)), sr, amplitude=0.4 if i % 3 else 0.2))
    voiced = np.concatenate(segments)[:n]
    voiced = np.pad(voiced, (0, n - len(voiced)))
    mix = voiced + chirp(seconds, sr, amplitude=0.2)[:n] + 0.01 * rng.standard_normal(n)
    return np.clip(mix, -1.0, 1.0).astype(np.float32)
