"""Tempo perturbation that keeps pitch: WSOLA (waveform-similarity overlap-add).

Output frames are laid down every ``hop`` samples with a Hann window (which sums to one at 50 %
overlap); the input frame for output frame k is read near ``k * hop * factor``, shifted by up to
``tolerance`` samples so that it lines up with the natural continuation of the previous frame (the
shift that maximises their cross-correlation). Periods are copied whole, so pitch is kept while the
duration changes by 1 / factor (Verhelst & Roelands 1993).
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def tempo_perturb(wav: np.ndarray, factor: float, sr: int = 16000, frame_ms: float = 40.0) -> np.ndarray:
    """``factor`` > 1 is faster (shorter), < 1 slower; output length ~ len(wav) / factor, same pitch."""
    wav = np.asarray(wav)
    if wav.ndim != 1 or wav.size == 0 or not np.issubdtype(wav.dtype, np.floating):
        raise ValueError(f"tempo_perturb: expected non-empty float audio [T], got {wav.dtype} {wav.shape}")
    if not 0.25 <= factor <= 4.0:
        raise ValueError(f"tempo_perturb: factor must be in [0.25, 4], got {factor}")
    n = max(16, int(sr * frame_ms / 1000) // 2 * 2)
    hop, tolerance = n // 2, n // 4
    window = scipy.signal.get_window("hann", n, fftbins=True)
    out_len = round(len(wav) / factor)
    x = np.pad(wav.astype(np.float64), (tolerance + n, int(n * (factor + 3))))  # room for the search
    y = np.zeros(out_len + 3 * n)
    offset = tolerance + n  # where wav[0] sits in x
    prev = offset
    for k in range((out_len + n) // hop + 1):
        target = offset + round(k * hop * factor) - n // 2
        if k == 0:
            start = target
        else:
            continuation = x[prev + hop: prev + hop + n]
            region = x[target - tolerance: target + tolerance + n]
            score = scipy.signal.correlate(region, continuation, mode="valid")  # [2 * tolerance + 1]
            start = target - tolerance + int(np.argmax(score))
        pos = k * hop
        y[pos: pos + n] += window * x[start: start + n]
        prev = start
    return y[n // 2: n // 2 + out_len].astype(wav.dtype)
