"""Routed experts with weights stacked along a leading expert axis.

``w1`` [N, F1, h] (F1 = F_e, or 2·F_e for SwiGLU with gate rows then up rows) and ``w2`` [N, h, F_e] keep
each expert in nn.Linear's [out, in] layout, which is also the on-disk layout of Hugging Face MoE
checkpoints after transformers v5 fuses them (``gate_up_proj`` [N, 2F_e, h], ``down_proj`` [N, h, F_e]),
so conversion is a rename, not a transpose (the layout trap of Megatron-LM issue #909).

``GroupedExperts`` runs all experts with two grouped matmuls; ``SequentialExperts`` is the plain loop over
experts (Megatron's ``SequentialMLP``) with the same parameters, kept as the reference the tests compare
the fast path with.
"""

from __future__ import annotations

import torch
from torch import nn

from upcycling.activations import activate, fc1_rows
from upcycling.moe.dispatch import grouped_mm


class ExpertWeights(nn.Module):
    def __init__(self, num_experts: int, hidden: int, ffn_hidden: int, activation: str, bias: bool,
                 init_std: float = 0.02) -> None:
        super().__init__()
        self.num_experts, self.activation = num_experts, activation
        rows = fc1_rows(activation, ffn_hidden)
        self.w1 = nn.Parameter(torch.empty(num_experts, rows, hidden).normal_(0.0, init_std))
        self.w2 = nn.Parameter(torch.empty(num_experts, hidden, ffn_hidden).normal_(0.0, init_std))
        self.b1 = nn.Parameter(torch.zeros(num_experts, rows)) if bias else None
        self.b2 = nn.Parameter(torch.zeros(num_experts, hidden)) if bias else None


class GroupedExperts(ExpertWeights):
    """All experts in two grouped matmuls over expert-sorted rows."""

    impl: str = "auto"
    """grouped matmul implementation: auto, grouped_mm or padded_bmm (see ``dispatch.grouped_mm``)"""

    def forward(self, x: torch.Tensor, counts: torch.Tensor, expert_ids: torch.Tensor) -> torch.Tensor:
        """x [M, h] sorted by expert, counts [N], expert_ids [M] → [M, h]."""
        h = grouped_mm(x, self.w1, counts, self.impl)  # [M, F1]
        if self.b1 is not None:
            h = h + self.b1.to(h.dtype)[expert_ids]
        y = grouped_mm(activate(h, self.activation), self.w2, counts, self.impl)  # [M, h]
        if self.b2 is not None:
            y = y + self.b2.to(y.dtype)[expert_ids]
        return y


class SequentialExperts(ExpertWeights):
    """Reference: one dense MLP call per expert on its slice of rows."""

    def forward(self, x: torch.Tensor, counts: torch.Tensor, expert_ids: torch.Tensor) -> torch.Tensor:
        outs = []
        for e, rows in enumerate(torch.split(x, counts.tolist())):
            h = rows @ self.w1[e].to(x.dtype).T  # [m, F1]
            if self.b1 is not None:
                h = h + self.b1[e].to(x.dtype)
            y = activate(h, self.activation) @ self.w2[e].to(x.dtype).T  # [m, h]
            if self.b2 is not None:
                y = y + self.b2[e].to(x.dtype)
            outs.append(y)
        return torch.cat(outs, dim=0) if outs else x.new_zeros(0, self.w2.shape[1])


class SharedExperts(nn.Module):
    """S always-on experts as one MLP of width S·F_e (Megatron's ``SharedExpertMLP``; DeepSeekMoE): every
    token passes through it, with weight 1 and no gate. Keys ``fc1``/``fc2`` in the dense MLP's layout, so
    upcycling fills them with dense shards."""

    def __init__(self, hidden: int, ffn_hidden: int, activation: str, bias: bool) -> None:
        super().__init__()
        self.activation = activation
        self.fc1 = nn.Linear(hidden, fc1_rows(activation, ffn_hidden), bias=bias)
        self.fc2 = nn.Linear(ffn_hidden, hidden, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [S, h] → [S, h]."""
        return self.fc2(activate(self.fc1(x), self.activation))
