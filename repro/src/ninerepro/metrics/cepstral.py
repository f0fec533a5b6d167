"""Mel-cepstral distortion (MCD, in dB) between reference and synthesised speech.

MCD = (10 / ln 10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over frames, with c the mel-cepstrum of a
frame. The constant turns a natural-log cepstral distance into decibels; the energy term c_0 is
usually left out so that loudness differences do not count as spectral distortion.

Our mel-cepstra are the orthonormal DCT-II of the natural-log mel spectrogram (the Tacotron 2 front end
of ``ninerepro.audio``). That differs from SPTK's all-pass mel-cepstral analysis, so absolute values are only
comparable between systems measured with this same function, not with numbers computed by SPTK tools.

Layout follows the rest of the repository: features first, frames second ([n_mcep, frames]).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.fft import dct

from ninerepro.metrics._arrays import as_float_array, check_same_shape
from ninerepro.metrics.dtw import dtw_path

MCD_CONSTANT = 10.0 / np.log(10.0) * np.sqrt(2.0)


def mel_cepstrum_from_mel(log_mel: Any, n_mcep: int = 13) -> np.ndarray:
    """First ``n_mcep`` coefficients of the orthonormal DCT-II over the mel axis: [n_mels, T] -> [n_mcep, T].

    The input must already be a log (natural log) mel spectrogram; c_0 is row 0.
    """
    mel = as_float_array(log_mel, "log_mel", ndim=2)
    if not 1 <= n_mcep <= mel.shape[0]:
        raise ValueError(f"n_mcep must be between 1 and n_mels={mel.shape[0]}, got {n_mcep}")
    if not np.all(np.isfinite(mel)):
        raise ValueError("log_mel has non-finite values; clamp the mel before the log (e.g. at 1e-5)")
    return dct(mel, type=2, norm="ortho", axis=0)[:n_mcep]


def _frame_distortion(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Per-frame MCD in dB for [dim, frames] arrays of equal shape."""
    return MCD_CONSTANT * np.sqrt(np.sum((ref - est) ** 2, axis=0))


def _prepare(ref_mcep: Any, est_mcep: Any, exclude_c0: bool) -> tuple[np.ndarray, np.ndarray]:
    ref = as_float_array(ref_mcep, "ref_mcep", ndim=2)
    est = as_float_array(est_mcep, "est_mcep", ndim=2)
    if ref.shape[0] != est.shape[0]:
        raise ValueError(
            f"ref_mcep and est_mcep need the same number of coefficients, got {ref.shape[0]} "
            f"and {est.shape[0]}; both are [n_mcep, frames]"
        )
    if exclude_c0:
        ref, est = ref[1:], est[1:]
    if ref.shape[0] == 0 or ref.shape[1] == 0 or est.shape[1] == 0:
        raise ValueError(f"mcd needs at least one coefficient and one frame, got {ref.shape} and {est.shape}")
    return ref, est


def mcd(ref_mcep: Any, est_mcep: Any, exclude_c0: bool = True) -> float:
    """Mean MCD in dB over time-aligned frames of [n_mcep, frames] mel-cepstra (same frame count)."""
    ref, est = _prepare(ref_mcep, est_mcep, exclude_c0)
    check_same_shape(ref, est, "ref_mcep and est_mcep", "use mcd_dtw for sequences of different length")
    return float(np.mean(_frame_distortion(ref, est)))


def mcd_dtw(ref_mcep: Any, est_mcep: Any, exclude_c0: bool = True) -> float:
    """MCD in dB averaged along the DTW path between [n_mcep, frames] mel-cepstra of any lengths.

    The path is found on the same coefficients that are scored (without c_0 unless ``exclude_c0`` is
    False), and the mean is over path pairs, so a frame matched twice counts twice.
    """
    ref, est = _prepare(ref_mcep, est_mcep, exclude_c0)
    path = dtw_path(ref.T, est.T)  # [L, 2] pairs of frame indices
    return float(np.mean(_frame_distortion(ref[:, path[:, 0]], est[:, path[:, 1]])))
