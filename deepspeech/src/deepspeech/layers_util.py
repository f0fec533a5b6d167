"""Small tensor helpers shared by the layers (kept apart so rnn_loop.py and layers.py can both import them)."""

from __future__ import annotations

import torch


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each [T, D] sequence of ``x`` [B, T, D] inside its valid length; padding stays at the end."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # [1, T]
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # [B, T]
    return x.gather(1, idx.unsqueeze(-1).expand_as(x))
