"""Location-sensitive attention (Chorowski et al. 2015) as Tacotron 2 uses it.

energy_j = v^T tanh(W q + V m_j + U f_j), where f = a 1-D conv over [previous weights; cumulative weights]: the
location term is what makes the alignment move forward monotonically. Masked tokens get the dtype's most
negative value rather than -inf, which gives the same softmax in fp32 and stays finite in fp16/bf16.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ninerepro.tts.layers import XavierConv1d, XavierLinear


class LocationLayer(nn.Module):
    def __init__(self, n_filters: int = 32, kernel_size: int = 31, attention_dim: int = 128):
        super().__init__()
        self.location_conv = XavierConv1d(2, n_filters, kernel_size, bias=False)
        self.location_dense = XavierLinear(n_filters, attention_dim, bias=False, gain="tanh")

    def forward(self, weights_cat: Tensor) -> Tensor:
        """[B, 2, T_in] -> [B, T_in, attention_dim]."""
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class LocationSensitiveAttention(nn.Module):
    def __init__(self, query_dim: int = 1024, memory_dim: int = 512, attention_dim: int = 128,
                 n_filters: int = 32, kernel_size: int = 31):
        super().__init__()
        self.query_layer = XavierLinear(query_dim, attention_dim, bias=False, gain="tanh")
        self.memory_layer = XavierLinear(memory_dim, attention_dim, bias=False, gain="tanh")
        self.v = XavierLinear(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(n_filters, kernel_size, attention_dim)

    def energies(self, query: Tensor, processed_memory: Tensor, weights_cat: Tensor) -> Tensor:
        """query [B, Q], processed memory [B, T_in, A], weights_cat [B, 2, T_in] -> energies [B, T_in]."""
        q = self.query_layer(query.unsqueeze(1))
        return self.v(torch.tanh(q + self.location_layer(weights_cat) + processed_memory)).squeeze(-1)

    def forward(self, query: Tensor, memory: Tensor, processed_memory: Tensor, weights_cat: Tensor,
                mask: Tensor | None, forced_weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(context [B, M], weights [B, T_in]); ``mask`` is True at padded tokens. ``forced_weights`` replaces
        the computed alignment (Mellotron's rhythm transfer) and skips the energies altogether."""
        if forced_weights is None:
            e = self.energies(query, processed_memory, weights_cat)
            if mask is not None:
                e = e.masked_fill(mask, torch.finfo(e.dtype).min)
            weights = torch.softmax(e, dim=1)
        else:
            weights = forced_weights
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights
