"""Audio -> the CRNN's input: 40 mel channels at a 10 ms hop, PCEN-normalised (or log-mel), per window.

Every window gets its features computed from its own samples, with a fresh PCEN smoother, exactly as the
training windows did: the sliding-window detector therefore sees what the model was trained on.
``window_features`` is that definition; ``stream_window_features`` gives the same numbers for all windows of a
stream without recomputing the overlapping STFT frames (a window's interior frames are the stream's frames;
only the few frames whose STFT reaches past a window edge see that window's own padding, and are recomputed
from the window's ends). The STFT, mel filterbank and PCEN are ninerepro.audio's.
"""

from __future__ import annotations

import numpy as np
import torch

from crnn_kws.config import FeatureConfig
from ninerepro.audio import PCEN, mel_energies


def make_pcen(cfg: FeatureConfig) -> PCEN:
    return PCEN(cfg.n_mels, s=cfg.pcen_s, alpha=cfg.pcen_alpha, delta=cfg.pcen_delta, r=cfg.pcen_r)


def energies(wav: torch.Tensor, cfg: FeatureConfig) -> torch.Tensor:
    """Mel energies [..., n_mels, frames] of [..., samples] audio, scaled to int16 power (see FeatureConfig)."""
    e = mel_energies(wav, cfg.sample_rate, n_fft=cfg.n_fft, hop=cfg.hop, n_mels=cfg.n_mels)
    return e * cfg.mel_scale


def normalise(e: torch.Tensor, cfg: FeatureConfig, pcen: PCEN | None = None) -> torch.Tensor:
    """PCEN (a fresh smoother per item) or natural-log mel of energies [B, n_mels, frames]."""
    if cfg.kind == "pcen":
        return (pcen or make_pcen(cfg).to(e.device))(e)
    return torch.log(e.clamp_min(1.0))  # 1.0 on the int16 power scale: quieter than any real recording


def window_features(wav: torch.Tensor | np.ndarray, cfg: FeatureConfig) -> torch.Tensor:
    """Features [B, n_mels, n_frames] of windows [B, window_samples] (or one [window_samples] window)."""
    x = torch.from_numpy(np.array(wav, dtype=np.float32)) if isinstance(wav, np.ndarray) else wav.float()
    x = x[None] if x.dim() == 1 else x
    if x.dim() != 2 or x.shape[-1] != cfg.window_samples:
        raise ValueError(f"window_features: expected [B, {cfg.window_samples}] windows of {cfg.window_s} s, "
                         f"got {tuple(x.shape)}")
    with torch.no_grad():
        return normalise(energies(x, cfg), cfg)


def sliding_windows(wav: np.ndarray, cfg: FeatureConfig, hop_frames: int) -> np.ndarray:
    """[n, window_samples] views of ``wav`` every ``hop_frames`` frames; the first ends one window in.

    A stream shorter than one window has no decision point; the caller reports that as an error.
    """
    n, step = cfg.window_samples, hop_frames * cfg.hop
    if len(wav) < n:
        return np.zeros((0, n), dtype=np.float32)
    return np.lib.stride_tricks.sliding_window_view(np.asarray(wav, dtype=np.float32), n)[::step]


def _edge_frames(cfg: FeatureConfig) -> int:
    """Frames at each end of a window whose STFT frame reaches past the window (centre padding)."""
    return -(-(cfg.n_fft // 2) // cfg.hop)


def stream_window_features(wav: np.ndarray, cfg: FeatureConfig, hop_frames: int) -> torch.Tensor:
    """``window_features(sliding_windows(wav, cfg, hop_frames), cfg)`` computed once per stream frame.

    Interior frames of window k are stream frames ``hop_frames * k + j``; the ``e`` edge frames at each end
    come from the STFT of the window's first / last ``seg`` samples, whose centre padding equals the whole
    window's there. PCEN then runs per window with a fresh smoother, as in training. Falls back to the plain
    per-window form when the window does not split into whole hops.
    """
    windows = sliding_windows(wav, cfg, hop_frames)
    n, hop, e = cfg.window_samples, cfg.hop, _edge_frames(cfg)
    seg = hop * -(-(cfg.n_fft + hop) // hop)  # samples whose frames cover the e exact edge frames
    if len(windows) == 0 or n % hop or seg >= n:
        return window_features(windows, cfg) if len(windows) else torch.zeros(0, cfg.n_mels, cfg.n_frames)
    with torch.no_grad():
        span = torch.from_numpy(np.ascontiguousarray(wav[:(len(windows) - 1) * hop_frames * hop + n],
                                                     dtype=np.float32))
        stream = energies(span, cfg)  # [n_mels, stream frames]
        starts = torch.arange(len(windows)) * hop_frames
        index = starts[:, None] + torch.arange(cfg.n_frames)[None]  # [n_win, n_frames]
        e_win = stream[:, index].permute(1, 0, 2).clone()  # [n_win, n_mels, n_frames]
        ends = torch.from_numpy(np.ascontiguousarray(np.concatenate([windows[:, :seg], windows[:, -seg:]])))
        edge = energies(ends, cfg)  # [2 n_win, n_mels, seg // hop + 1]
        e_win[:, :, :e] = edge[:len(windows), :, :e]
        e_win[:, :, -e:] = edge[len(windows):, :, -e:]
        return normalise(e_win, cfg)
