"""Mel filterbanks built from the formulas, in numpy (float64).

The Tacotron 2 family uses ``librosa.filters.mel`` with its defaults: the Slaney mel scale (linear
below 1 kHz, logarithmic above) and Slaney area normalisation (each triangle scaled to unit area in Hz
so bands of different width carry comparable energy). Writing it out keeps librosa out of the runtime
path and lets a test pin it to librosa's numbers.
"""

from __future__ import annotations

import numpy as np

_F_SP = 200.0 / 3.0  # Hz per mel in the linear part of the Slaney scale
_MIN_LOG_HZ = 1000.0  # where the scale turns logarithmic
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # = 15 mel
_LOGSTEP = np.log(6.4) / 27.0  # log-spaced part: 27 mel per factor 6.4 in frequency


def hz_to_mel(hz: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Convert frequency in Hz to mel (Slaney by default, HTK ``2595 log10(1 + f/700)`` with ``htk``)."""
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    linear = hz / _F_SP
    logpart = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, logpart, linear)


def mel_to_hz(mel: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    linear = mel * _F_SP
    logpart = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, logpart, linear)


def mel_filterbank(sr: int, n_fft: int, n_mels: int = 80, fmin: float = 0.0, fmax: float | None = None,
                   *, htk: bool = False, norm: str | None = "slaney") -> np.ndarray:
    """Triangular mel filters as a ``[n_mels, n_fft // 2 + 1]`` float64 matrix (librosa's definition).

    Band edges are ``n_mels + 2`` points equally spaced on the mel scale between ``fmin`` and ``fmax``;
    filter ``i`` rises from edge ``i`` to ``i + 1`` and falls to ``i + 2``, evaluated at the FFT bin
    centre frequencies.
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sr / 2.0:
        raise ValueError(f"mel_filterbank: need 0 <= fmin < fmax <= sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    if n_mels < 1 or n_fft < 2:
        raise ValueError(f"mel_filterbank: need n_mels >= 1 and n_fft >= 2, got {n_mels}, {n_fft}")
    if norm not in (None, "slaney"):
        raise ValueError(f"mel_filterbank: norm must be 'slaney' or None, got {norm!r}")
    bin_hz = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    widths = np.diff(edges_hz)  # [n_mels + 1]
    offsets = edges_hz[:, None] - bin_hz[None, :]  # [n_mels + 2, n_bins]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))  # [n_mels, n_bins]
    if norm == "slaney":
        weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights
