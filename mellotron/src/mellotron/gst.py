"""Global style tokens (Wang et al. 2018) as Mellotron uses them: a reference encoder summarises a mel into one
vector, which attends over 10 learned tokens with 8 heads; the weighted sum is the style embedding.

Attribute names follow the official ``modules.py`` (``encoder.convs``, ``encoder.bns``, ``encoder.gru``,
``stl.embed``, ``stl.attention.W_query``...), so official weights load unchanged.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mellotron.config import MellotronModelConfig


def _conv_out(size: int, kernel: int, stride: int, pad: int, n: int) -> int:
    for _ in range(n):
        size = (size - kernel + 2 * pad) // stride + 1
    return size


class ReferenceEncoder(nn.Module):
    """6 strided Conv2d + BatchNorm + ReLU over the mel "image", then a GRU whose last state is the summary."""

    def __init__(self, cfg: MellotronModelConfig):
        super().__init__()
        chans = [1, *cfg.ref_enc_filters]
        k, s, p = tuple(cfg.ref_enc_size), tuple(cfg.ref_enc_strides), tuple(cfg.ref_enc_pad)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, k, s, p) for a, b in itertools.pairwise(chans))
        self.bns = nn.ModuleList(nn.BatchNorm2d(c) for c in cfg.ref_enc_filters)
        freq = _conv_out(cfg.n_mel_channels, k[1], s[1], p[1], len(self.convs))
        self.gru = nn.GRU(cfg.ref_enc_filters[-1] * freq, cfg.ref_enc_gru_size, batch_first=True)
        self.n_mel = cfg.n_mel_channels
        self.view = cfg.reference_view
        self.time_stride = math.prod([s[0]] * len(self.convs))

    def image(self, mel: Tensor) -> Tensor:
        """[B, 80, T] -> [B, 1, T, 80]. ``official``: the same bytes re-cut into rows of 80 (``view``), exactly as
        NVIDIA/mellotron does; ``transpose``: frames as rows."""
        B = mel.shape[0]
        if self.view == "official":
            return mel.contiguous().view(B, 1, -1, self.n_mel)
        return mel.transpose(1, 2).unsqueeze(1)

    def forward(self, mel: Tensor, lengths: Tensor | None = None) -> Tensor:
        """[B, 80, T] (and frame lengths) -> [B, gru_size]. Lengths shrink by the convs' time stride, rounded up,
        as the official code packs them."""
        x = self.image(mel)
        for conv, bn in zip(self.convs, self.bns):
            x = F.relu(bn(conv(x)))
        x = x.transpose(1, 2)  # [B, T', C, F']
        B, T = x.shape[:2]
        x = x.contiguous().view(B, T, -1)
        if lengths is not None:
            steps = torch.ceil(lengths.float() / self.time_stride).long().clamp(min=1, max=T)
            x = nn.utils.rnn.pack_padded_sequence(x, steps.cpu(), batch_first=True, enforce_sorted=False)
        self.gru.flatten_parameters()
        _, h = self.gru(x)
        return h.squeeze(0)


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with ``num_heads`` heads; scores are scaled by sqrt(key_dim), the width of
    one *token* (32), as the official code does, not by the per-head projection width."""

    def __init__(self, query_dim: int, key_dim: int, num_units: int, num_heads: int):
        super().__init__()
        self.num_units, self.num_heads, self.key_dim = num_units, num_heads, key_dim
        self.W_query = nn.Linear(query_dim, num_units, bias=False)
        self.W_key = nn.Linear(key_dim, num_units, bias=False)
        self.W_value = nn.Linear(key_dim, num_units, bias=False)

    def _heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape  # [B, T, units] -> [h, B, T, units / h]
        return x.view(B, T, self.num_heads, -1).permute(2, 0, 1, 3)

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        """query [B, Tq, query_dim], key [B, Tk, key_dim] -> [B, Tq, num_units]."""
        q, k, v = self._heads(self.W_query(query)), self._heads(self.W_key(key)), self._heads(self.W_value(key))
        scores = torch.softmax(q @ k.transpose(2, 3) / self.key_dim**0.5, dim=3)
        out = scores @ v  # [h, B, Tq, units / h]
        return out.permute(1, 2, 0, 3).reshape(out.shape[1], out.shape[2], self.num_units)


class StyleTokenLayer(nn.Module):
    def __init__(self, cfg: MellotronModelConfig):
        super().__init__()
        d_k = cfg.token_embedding_size // cfg.num_heads
        self.embed = nn.Parameter(torch.empty(cfg.token_num, d_k))
        nn.init.normal_(self.embed, mean=0.0, std=0.5)
        self.attention = MultiHeadAttention(cfg.ref_enc_gru_size, d_k, cfg.token_embedding_size, cfg.num_heads)
        self.query_dim = cfg.ref_enc_gru_size

    def tokens(self) -> Tensor:
        """The keys and values attended over: tanh of the learned tokens, [token_num, d_k]."""
        return torch.tanh(self.embed)

    def forward(self, summary: Tensor) -> Tensor:
        """Reference summaries [B, gru_size] -> style embeddings [B, 1, token_embedding_size]."""
        keys = self.tokens().unsqueeze(0).expand(summary.shape[0], -1, -1)
        return self.attention(summary.unsqueeze(1), keys)

    def token(self, index: int) -> Tensor:
        """Style of one token alone, [1, 1, E]: attention over a single key is that key's value projection."""
        key = self.tokens()[index].view(1, 1, -1)
        return self.attention(key.new_zeros(1, 1, self.query_dim), key)


class GST(nn.Module):
    def __init__(self, cfg: MellotronModelConfig):
        super().__init__()
        self.encoder = ReferenceEncoder(cfg)
        self.stl = StyleTokenLayer(cfg)

    def forward(self, mel: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Reference mel [B, 80, T] -> style embedding [B, 1, E]."""
        return self.stl(self.encoder(mel, lengths))
