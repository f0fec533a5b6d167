"""Decoder prenet and postnet of Tacotron 2.

The prenet's dropout (p = 0.5) stays on at inference in the official code, by design: it is the only source of
variation in Tacotron 2's output and the paper credits it with robustness. ``always_dropout=True`` keeps that;
``False`` makes eval-mode output deterministic (what parity tests and reproducible demos need).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ninerepro.tts.layers import XavierConv1d, XavierLinear


class Prenet(nn.Module):
    def __init__(self, in_dim: int = 80, sizes: tuple[int, ...] = (256, 256), dropout: float = 0.5,
                 always_dropout: bool = True):
        super().__init__()
        dims = [in_dim, *sizes]
        self.layers = nn.ModuleList(XavierLinear(a, b, bias=False) for a, b in itertools.pairwise(dims))
        self.dropout = dropout
        self.always_dropout = always_dropout

    def forward(self, x: Tensor) -> Tensor:
        active = self.always_dropout or self.training
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), self.dropout, active)
        return x


class Postnet(nn.Module):
    """5 convs (k = 5) with BatchNorm, tanh on all but the last; its output is added to the decoder's mel."""

    def __init__(self, n_mel: int = 80, dim: int = 512, kernel_size: int = 5, n_convs: int = 5,
                 dropout: float = 0.5):
        super().__init__()
        chans = [n_mel] + [dim] * (n_convs - 1) + [n_mel]
        self.convolutions = nn.ModuleList(
            nn.Sequential(XavierConv1d(a, b, kernel_size, gain="tanh" if i < n_convs - 1 else "linear"),
                          nn.BatchNorm1d(b))
            for i, (a, b) in enumerate(itertools.pairwise(chans)))
        self.dropout = dropout

    def forward(self, mel: Tensor) -> Tensor:
        """[B, n_mel, T] -> the residual to add, [B, n_mel, T]."""
        x = mel
        for i, conv in enumerate(self.convolutions):
            x = conv(x)
            x = F.dropout(torch.tanh(x) if i < len(self.convolutions) - 1 else x, self.dropout, self.training)
        return x
