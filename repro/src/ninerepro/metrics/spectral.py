"""Log-spectral distance (LSD, in dB) between two time-aligned spectrograms.

Definition used here, per frame t over the F frequency bins:

    LSD_t = sqrt( (1/F) * sum_f (10 * log10(P_ref[f, t] / P_est[f, t]))^2 )

and LSD is the mean of LSD_t over frames. P is power; magnitude inputs are squared first
(``power=False``). Each power is clamped from below at ``floor`` (1e-10, i.e. -100 dB) before the log, so
silent bins give a finite, bounded contribution instead of infinity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ninerepro.metrics._arrays import as_float_array, check_same_shape


def lsd(ref_spec: Any, est_spec: Any, power: bool = True, floor: float = 1e-10) -> float:
    """Mean over frames of the RMS (over frequency) dB difference of two [n_bins, frames] spectrograms."""
    ref = as_float_array(ref_spec, "ref_spec", ndim=2)
    est = as_float_array(est_spec, "est_spec", ndim=2)
    check_same_shape(ref, est, "ref_spec and est_spec", "both are [n_bins, frames] with the same STFT settings")
    if ref.size == 0:
        raise ValueError(f"lsd needs at least one bin and one frame, got shape {ref.shape}")
    if floor <= 0:
        raise ValueError(f"floor must be positive, got {floor}")
    if np.any(ref < 0) or np.any(est < 0):
        raise ValueError("lsd expects non-negative power or magnitude spectrograms, not log spectrograms")
    if not power:
        ref, est = ref**2, est**2
    diff_db = 10.0 * (np.log10(np.maximum(ref, floor)) - np.log10(np.maximum(est, floor)))
    return float(np.mean(np.sqrt(np.mean(diff_db**2, axis=0))))
