"""Instance normalisation over the valid frames of each padded sequence (Flowtron's text encoder).

Flowtron replaced the Tacotron 2 encoder's BatchNorm with InstanceNorm; since 2021 its statistics are taken only
over each utterance's real frames, so a padded batch normalises every utterance exactly as it would be
normalised alone. Statistics always come from the input (no running averages), which is what makes a batch of
one in eval mode (inference) and a padded training batch agree.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MaskedInstanceNorm1d(nn.Module):
    """[B, C, T] -> [B, C, T], mean and biased variance per (item, channel) over the frames where ``mask`` is 1.

    Parameters are named ``weight`` and ``bias`` like ``nn.InstanceNorm1d(affine=True)``, so official state dicts
    load unchanged."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``mask`` [B, 1, T] (1 = valid); None = every frame is valid."""
        if mask is None:
            mean = x.mean(dim=2, keepdim=True)
            var = (x - mean).pow(2).mean(dim=2, keepdim=True)
        else:
            mask = mask.to(x.dtype)
            count = mask.sum(dim=2, keepdim=True)
            mean = (x * mask).sum(dim=2, keepdim=True) / count
            var = ((x - mean) * mask).pow(2).sum(dim=2, keepdim=True) / count
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight[None, :, None] + self.bias[None, :, None]


__all__ = ["MaskedInstanceNorm1d"]
