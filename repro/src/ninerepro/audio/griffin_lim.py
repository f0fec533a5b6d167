"""Griffin-Lim phase reconstruction (tacotron2 ``audio_processing.griffin_lim``, batched torch).

Start from random phases, then alternate: inverse STFT with the target magnitude, STFT of the result,
keep only its phase. Each round cannot increase the distance between the target magnitude and a
consistent spectrogram, so quality improves with iterations; 30 is the official default.
"""

from __future__ import annotations

import math

import torch

from ninerepro.audio.stft import STFT


def griffin_lim(magnitude: torch.Tensor, stft: STFT, n_iters: int = 30, *,
                generator: torch.Generator | None = None, length: int | None = None) -> torch.Tensor:
    """Waveform [B, T] (or [T]) whose STFT magnitude approximates ``magnitude`` [B, bins, frames].

    ``generator`` (a CPU ``torch.Generator``) makes the random initial phases reproducible; the phases
    are drawn on CPU and moved to the magnitude's device so results do not depend on the device RNG.
    """
    if magnitude.dim() not in (2, 3):
        raise ValueError(f"griffin_lim: expected magnitude [bins, frames] or [B, bins, frames], "
                         f"got {tuple(magnitude.shape)}")
    if n_iters < 0:
        raise ValueError(f"griffin_lim: n_iters must be >= 0, got {n_iters}")
    if not magnitude.is_floating_point() or bool((magnitude < 0).any()):
        raise ValueError("griffin_lim: magnitude must be a non-negative float tensor (linear, not log)")
    angles = torch.rand(magnitude.shape, generator=generator, dtype=magnitude.dtype) * (2 * math.pi)
    angles = angles.to(magnitude.device)
    signal = stft.inverse(magnitude, angles, length=length)
    for _ in range(n_iters):
        _, angles = stft.transform(signal)
        signal = stft.inverse(magnitude, angles, length=length)
    return signal


def spectral_convergence(target: torch.Tensor, estimate: torch.Tensor) -> float:
    """``||S - S'||_F / ||S||_F`` between two magnitude spectrograms (0 = identical)."""
    if target.shape != estimate.shape:
        raise ValueError(f"spectral_convergence: shapes differ, {tuple(target.shape)} vs {tuple(estimate.shape)}")
    return float(torch.linalg.vector_norm(target - estimate) / torch.linalg.vector_norm(target))
