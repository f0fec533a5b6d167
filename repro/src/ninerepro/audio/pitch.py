"""Fundamental frequency and voicing at the Tacotron mel frame rate (for Mellotron).

Mellotron (``data_utils.get_f0`` with ``yin.compute_yin``) runs YIN with 1024-sample frames, hop 256,
80-880 Hz and harmonicity threshold 0.25, and pads the result so frame ``j`` is centred on sample
``256 j`` - the mel frame centres. We compute the same centred frames directly (zero padding of
512 samples each side), so the output has exactly ``1 + T // 256`` values, and refine the lag with
parabolic interpolation (the official code keeps the integer lag, a 1-3 % step at high pitch).
"""

from __future__ import annotations

import numpy as np

from ninerepro.audio.errors import SampleRateError


def _frames(wav: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    padded = np.pad(wav.astype(np.float64), frame_length // 2)
    n_frames = 1 + len(wav) // hop
    return np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop][:n_frames]


def cmnd(frames: np.ndarray, tau_max: int) -> np.ndarray:
    """Cumulative mean normalised difference d'(tau) for tau in [0, tau_max), per frame [F, tau_max].

    The difference d(tau) = sum_j (x_j - x_{j+tau})^2 over the overlap is written as two energy terms
    minus twice the autocorrelation, which one FFT per frame gives for all lags at once.
    """
    n = frames.shape[-1]
    energy = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=-1)], axis=-1)
    size = 1 << int(np.ceil(np.log2(n + tau_max)))
    spectrum = np.fft.rfft(frames, size, axis=-1)
    autocorr = np.fft.irfft(spectrum * spectrum.conj(), size, axis=-1)[:, :tau_max]
    taus = np.arange(tau_max)
    diff = energy[:, n - taus] + energy[:, n:n + 1] - energy[:, taus] - 2 * autocorr  # [F, tau_max]
    diff = np.maximum(diff, 0.0)
    running = np.cumsum(diff[:, 1:], axis=-1)
    out = np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 1:] = np.where(running > 1e-12, diff[:, 1:] * taus[1:] / running, 1.0)
    return out


def _pick_lags(d: np.ndarray, tau_min: int, tau_max: int, threshold: float) -> np.ndarray:
    """First lag under ``threshold`` followed down to its local minimum, refined by a parabola; 0 if none."""
    window = d[:, tau_min:tau_max]
    below = window < threshold
    voiced = below.any(axis=-1)
    first = np.argmax(below, axis=-1)
    idx = np.arange(window.shape[-1])
    rising = np.append(window[:, 1:] >= window[:, :-1], np.ones((len(d), 1), bool), axis=-1)
    local_min = np.argmax(rising & (idx >= first[:, None]), axis=-1) + tau_min
    lag = local_min.astype(np.float64)
    inner = voiced & (local_min > 0) & (local_min < d.shape[-1] - 1)
    rows = np.nonzero(inner)[0]
    a, b, c = (d[rows, local_min[rows] + k] for k in (-1, 0, 1))
    curvature = a - 2 * b + c
    shift = np.where(curvature > 0, 0.5 * (a - c) / np.where(curvature > 0, curvature, 1.0), 0.0)
    lag[rows] += np.clip(shift, -1.0, 1.0)
    return np.where(voiced, lag, 0.0)


def yin(wav: np.ndarray, sr: int = 22050, *, frame_length: int = 1024, hop_length: int = 256,
        fmin: float = 80.0, fmax: float = 880.0, threshold: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """YIN F0 (Hz, 0 where unvoiced, float32) and voicing flags for ``1 + len(wav) // hop_length`` frames."""
    wav = np.asarray(wav)
    if wav.ndim != 1 or not np.issubdtype(wav.dtype, np.floating) or wav.size == 0:
        raise ValueError(f"yin: expected non-empty float audio of shape [T], got {wav.dtype} {wav.shape}")
    if not 0 < fmin < fmax < sr / 2:
        raise ValueError(f"yin: need 0 < fmin < fmax < sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    tau_min, tau_max = int(sr / fmax), int(sr / fmin)
    if tau_max + 2 > frame_length:
        raise ValueError(f"yin: frame_length {frame_length} is too short for fmin {fmin} Hz at {sr} Hz "
                         f"(needs > {tau_max + 2} samples)")
    d = cmnd(_frames(wav, frame_length, hop_length), tau_max + 2)
    lag = _pick_lags(d, tau_min, tau_max, threshold)
    voiced = lag > 0
    f0 = np.where(voiced, sr / np.where(voiced, lag, 1.0), 0.0)
    return f0.astype(np.float32), voiced


def pyin(wav: np.ndarray, sr: int = 22050, *, frame_length: int = 1024, hop_length: int = 256,
         fmin: float = 80.0, fmax: float = 880.0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilistic YIN via ``librosa.pyin`` (centred frames, same count as the mel); 0 Hz where unvoiced."""
    try:
        import librosa
    except ImportError as err:
        raise ImportError("pyin needs librosa: pip install librosa (or `pip install -e './repro[test]'` from the "
                          "repository root)") from err
    f0, voiced, _ = librosa.pyin(np.asarray(wav, dtype=np.float64), fmin=fmin, fmax=fmax, sr=sr,
                                 frame_length=frame_length, hop_length=hop_length, center=True)
    return np.nan_to_num(f0, nan=0.0).astype(np.float32), voiced.astype(bool)


def f0_at_mel_rate(wav: np.ndarray, sr: int = 22050, *, method: str = "yin",
                   expected_sr: int = 22050) -> tuple[np.ndarray, np.ndarray]:
    """Mellotron's F0 setting (1024/256 frames, 80-880 Hz, threshold 0.25) aligned with ``tacotron_mel``."""
    if sr != expected_sr:
        raise SampleRateError(f"f0_at_mel_rate: audio is at {sr} Hz but the mel frame rate assumes "
                              f"{expected_sr} Hz; resample first with "
                              f"ninerepro.audio.resample(wav, {sr}, {expected_sr})")
    if method == "yin":
        return yin(wav, sr)
    if method == "pyin":
        return pyin(wav, sr)
    raise ValueError(f"f0_at_mel_rate: method must be 'yin' or 'pyin', got {method!r}")
