"""Flowtron's content-based attention over the text (no location term), with the optional beta-binomial prior.

score(t, j) = v^T tanh(W_q h_t + W_k m_j) / temperature, softmax over the tokens (padding masked). Flowtron
has no location features: an autoregressive flow must learn to move along the text from content alone, which is
why the static alignment prior and the CTC loss on the attention (``flowtron.loss``) exist. With the prior the
weights become softmax(log(attn + 1e-20) + log(prior + 1e-20)) and the CTC loss reads that unnormalised
log-posterior; without it, log(attn + 1e-8). Layer names follow the official code, so its weights load as they are.

Keys and values depend only on the text; ``project_memory`` computes them once, so inference (one query per
frame) does not recompute two [L, 640] x [640, 640] products every frame as the official loop does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ninerepro.tts.layers import XavierConv1d, XavierLinear


class FlowtronAttention(nn.Module):
    def __init__(self, query_dim: int = 1024, memory_dim: int = 640, attn_dim: int = 640):
        super().__init__()
        self.query = XavierLinear(query_dim, attn_dim, bias=False, gain="tanh")
        self.key = XavierLinear(memory_dim, attn_dim, bias=False, gain="tanh")
        self.value = XavierLinear(memory_dim, attn_dim, bias=False, gain="tanh")
        self.v = XavierLinear(attn_dim, 1, bias=False, gain="tanh")

    def project_memory(self, key_memory: Tensor, value_memory: Tensor) -> tuple[Tensor, Tensor]:
        """memory [B, L, M] -> (keys [B, L, A], values [B, L, A])."""
        return self.key(key_memory), self.value(value_memory)

    def weights(self, queries: Tensor, keys: Tensor, pad_mask: Tensor | None = None, prior: Tensor | None = None,
                temperature: float = 1.0) -> tuple[Tensor, Tensor]:
        """queries [B, T, H], keys [B, L, A] -> (weights [B, T, L], log-probabilities for the CTC loss [B, T, L]).

        ``pad_mask`` [B, L] is True at padded tokens; ``prior`` [B, T, L]. Scores are taken in fp32 (the softmax
        of a masked row in fp16 is where mixed precision used to produce NaNs)."""
        q = self.query(queries)
        scores = self.v(torch.tanh(q[:, :, None, :] + keys[:, None, :, :]))[..., 0].float() / temperature
        neg = torch.finfo(scores.dtype).min
        if pad_mask is not None:
            scores = scores.masked_fill(pad_mask[:, None, :], neg)
        attn = torch.softmax(scores, dim=2)
        if prior is None:
            return attn, torch.log(attn + 1e-8)
        posterior = torch.log(attn + 1e-20) + torch.log(prior.float() + 1e-20)
        logprob = posterior
        if pad_mask is not None:
            posterior = posterior.masked_fill(pad_mask[:, None, :], neg)
        return torch.softmax(posterior, dim=2), logprob

    @staticmethod
    def context(weights: Tensor, values: Tensor) -> Tensor:
        """weights [B, T, L], values [B, L, A] -> context [B, T, A]."""
        return torch.bmm(weights.to(values.dtype), values)


class AttentionConditioning(nn.Module):
    """``use_cumm_attention``: a sigmoid-gated map of [cumulative; previous] weights that scales the keys' input,
    adapted by the official code from Tacotron 2's location layer. The official module keeps its two convs both
    as attributes and inside ``conv_layers``, so its state dict lists each tensor twice; the same structure here
    keeps official files loadable key for key."""

    def __init__(self, out_dim: int = 640, n_filters: int = 32, kernel_sizes: tuple[int, int] = (5, 3)):
        super().__init__()
        self.location_conv_hidden = XavierConv1d(2, n_filters, kernel_sizes[0], gain="relu")
        self.location_conv_out = XavierConv1d(n_filters, out_dim, kernel_sizes[1], gain="sigmoid")
        self.conv_layers = nn.Sequential(self.location_conv_hidden, nn.ReLU(), self.location_conv_out, nn.Sigmoid())

    def forward(self, weights_cat: Tensor) -> Tensor:
        """[B, 2, L] -> [B, L, out_dim]."""
        return self.conv_layers(weights_cat).transpose(1, 2)


__all__ = ["AttentionConditioning", "FlowtronAttention"]
