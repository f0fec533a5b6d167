"""SpecAugment frequency and time masks (Park et al. 2019), batched and seeded.

Each item of a batch gets its own masks: ``n_freq_masks`` bands of width U[0, F] channels and
``n_time_masks`` spans of width U[0, T] frames, at uniform positions, set to ``mask_value``.
deepspeech.pytorch uses one frequency mask (F = 27) and one time mask (T = 70). Time warping is not
implemented.
"""

from __future__ import annotations

import torch


def _band_mask(batch: int, n_masks: int, max_width: int, size: int, generator: torch.Generator | None,
               device: torch.device) -> torch.Tensor:
    """Boolean [B, size]: True inside any of ``n_masks`` random bands of width <= max_width."""
    max_width = min(max_width, size)
    width = torch.randint(0, max_width + 1, (batch, n_masks), generator=generator)
    start = (torch.rand(batch, n_masks, generator=generator) * (size - width + 1)).long()
    idx = torch.arange(size)
    inside = (idx >= start[..., None]) & (idx < (start + width)[..., None])  # [B, n_masks, size]
    return inside.any(dim=1).to(device)


def spec_augment(features: torch.Tensor, *, n_freq_masks: int = 1, freq_width: int = 27, n_time_masks: int = 1,
                 time_width: int = 70, mask_value: float = 0.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Masked copy of ``features`` [B, F, T] or [F, T]. Random numbers come from ``generator`` (CPU)."""
    if features.dim() not in (2, 3) or not features.is_floating_point():
        raise ValueError(f"spec_augment: expected float features [B, F, T] or [F, T], got "
                         f"{features.dtype} {tuple(features.shape)}")
    if min(n_freq_masks, freq_width, n_time_masks, time_width) < 0:
        raise ValueError("spec_augment: mask counts and widths must be >= 0")
    x = features if features.dim() == 3 else features[None]
    batch, n_freq, n_time = x.shape
    freq = _band_mask(batch, n_freq_masks, freq_width, n_freq, generator, x.device)  # [B, F]
    time = _band_mask(batch, n_time_masks, time_width, n_time, generator, x.device)  # [B, T]
    masked = x.masked_fill(freq[:, :, None] | time[:, None, :], mask_value)
    return masked if features.dim() == 3 else masked[0]
