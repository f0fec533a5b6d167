"""Flowtron's optional Gaussian-mixture prior on z (``n_components > 1``).

A mel encoder (2 convs k=3 with masked instance norm, a BiLSTM, mean over time) summarises each training clip;
a linear layer turns that into mixture weights. Component means are either fixed (``fixed_gaussian``: one-hot
directions times ``mean_scale``, variance 1) or predicted from the same summary. At inference the components
are the control: sampling z around one component's mean picks the style that component captured.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ninerepro.tts.layers import XavierConv1d, XavierLinear, length_mask
from ninerepro.tts.norm import MaskedInstanceNorm1d


class MelEncoder(nn.Module):
    def __init__(self, n_mel: int = 80, dim: int = 512, kernel_size: int = 3, n_convs: int = 2):
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Sequential(XavierConv1d(n_mel if i == 0 else dim, dim, kernel_size, gain="relu"),
                          MaskedInstanceNorm1d(dim))
            for i in range(n_convs))
        self.lstm = nn.LSTM(dim, dim // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, mel: Tensor, lengths: Tensor | None) -> Tensor:
        """mel [B, n_mel, T] -> [B, dim]: the mean over all T frames of the BiLSTM output (zero past each
        length), as the official code averages."""
        mask = None
        if lengths is not None and mel.shape[0] > 1:
            mask = length_mask(lengths, mel.shape[2])[:, None, :].to(mel.dtype)
        x = mel
        for conv, norm in self.convolutions:
            if mask is not None:
                x = x * mask
            x = F.dropout(F.relu(norm(conv(x), mask)), 0.5, self.training)
        x = x.transpose(1, 2)
        if lengths is None:
            out = self.lstm(x)[0]
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True)[0]
        return out.mean(dim=1)


class GaussianMixture(nn.Module):
    def __init__(self, n_hidden: int, n_components: int, n_mel: int, fixed_gaussian: bool, mean_scale: float,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_mel, self.n_components, self.fixed_gaussian = n_mel, n_components, fixed_gaussian
        self.prob_layer = XavierLinear(n_hidden, n_components)
        if fixed_gaussian:
            ids = torch.randperm(n_mel, generator=generator)[:n_components]
            self.register_buffer("mean", (torch.eye(n_mel)[ids] * mean_scale).T[None].contiguous())  # [1, n_mel, K]
            self.register_buffer("log_var", torch.zeros(1, n_mel, n_components))
        else:
            self.mean_layer = XavierLinear(n_hidden, n_mel * n_components)
            self.log_var_layer = XavierLinear(n_hidden, n_mel * n_components)

    def forward(self, summary: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """summary [B, n_hidden] -> (mean [1 or B, n_mel, K], log_var [1 or B, n_mel, K], weights [B, K])."""
        prob = torch.softmax(self.prob_layer(summary), dim=1)
        if self.fixed_gaussian:
            return self.mean, self.log_var, prob
        B = summary.shape[0]
        return (self.mean_layer(summary).view(B, self.n_mel, self.n_components),
                self.log_var_layer(summary).view(B, self.n_mel, self.n_components), prob)


__all__ = ["GaussianMixture", "MelEncoder"]
