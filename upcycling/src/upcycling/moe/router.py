"""The MoE router: logits x·W_rᵀ, the two probability orders, and the auxiliary losses.

Two orders (paper §2.1.2):
- ``softmax_topk`` (Megatron ``--moe-router-pre-softmax``): p = Softmax(logits) over all N experts, keep the
  top T *without renormalising*; the kept weights sum to < 1 and carry the router's absolute confidence.
- ``topk_softmax`` (Megatron default; equal to HF Mixtral's softmax → top-k → renormalise): softmax over the
  T selected logits only, so the weights sum to 1. With T = 1 the weight is the constant 1 and the router
  receives no gradient from the LM loss (Megatron-LM issue #894).

Aux-loss-free balancing (DeepSeek-V3 §2.1.2, Megatron ``--moe-router-enable-expert-bias``): an fp32 bias b [N]
is added to the scores (the probabilities for softmax_topk, the logits for topk_softmax) for the top-T choice
only; the combine weights are the unbiased ones of the chosen experts. ``upcycling.moe.balance`` moves b
after each optimizer step; the router never changes it in its forward.

Routing runs in fp32 whatever the autocast dtype (Megatron ``--moe-router-dtype fp32``): near-tied logits in
bf16 flip expert choices and break the upcycled model's step-0 equivalence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from upcycling.moe.dispatch import autocast_off


@dataclass
class Routing:
    weights: torch.Tensor
    """[S, T] fp32 combine weights of the selected experts"""
    indices: torch.Tensor
    """[S, T] int64 selected expert ids, highest score first"""
    logits: torch.Tensor
    """[S, N] fp32 raw router logits (for the z-loss)"""
    probs: torch.Tensor
    """[S, N] fp32 softmax over all experts (for the load-balancing loss, in either order)"""


def route(logits: torch.Tensor, topk: int, order: str, bias: torch.Tensor | None = None) -> Routing:
    """Select T experts per token from fp32 ``logits`` [S, N] in the given order; ``bias`` [N] (fp32) shifts
    the scores the choice is made on, not the weights."""
    probs = torch.softmax(logits, dim=-1)  # [S, N]
    if order == "softmax_topk":
        if bias is None:
            weights, indices = torch.topk(probs, topk, dim=-1)  # [S, T] each, not renormalised
        else:
            indices = torch.topk(probs + bias, topk, dim=-1).indices  # [S, T]
            weights = probs.gather(-1, indices)  # [S, T] unbiased
    elif order == "topk_softmax":
        scores = logits if bias is None else logits + bias
        indices = torch.topk(scores, topk, dim=-1).indices  # [S, T]
        weights = torch.softmax(logits.gather(-1, indices), dim=-1)  # [S, T], rows sum to 1
    else:
        raise ValueError(f"unknown router order {order!r}; use softmax_topk or topk_softmax")
    return Routing(weights=weights, indices=indices, logits=logits, probs=probs)


def tokens_per_expert(indices: torch.Tensor, num_experts: int) -> torch.Tensor:
    """[N] int64 count of (token, slot) assignments per expert (a scatter-add: no host sync, unlike bincount)."""
    flat = indices.reshape(-1)
    return torch.zeros(num_experts, dtype=torch.long, device=flat.device).scatter_add_(0, flat, torch.ones_like(flat))


def switch_load_balancing_loss(probs: torch.Tensor, indices: torch.Tensor, coeff: float) -> torch.Tensor:
    """Switch/ST-MoE auxiliary loss as Megatron computes it (paper §3.3: α = 1e-2).

    L = α · N · Σ_e f_e · P_e with f_e = count_e / (S·T) (share of assignments to expert e) and
    P_e = mean_t p_{t,e} (mean probability over all N experts). Perfectly balanced routing gives L = α;
    the gradient flows through P_e only (the counts are not differentiable).
    """
    s, n = probs.shape
    t = indices.shape[-1]
    counts = tokens_per_expert(indices, n).to(probs.dtype)  # [N]
    f = counts / (s * t)  # [N]
    p_mean = probs.mean(dim=0)  # [N]
    return coeff * n * torch.sum(f * p_mean)


def z_loss(logits: torch.Tensor, coeff: float) -> torch.Tensor:
    """ST-MoE router z-loss: coeff · mean_t (logsumexp_e logits_{t,e})², keeps logits small."""
    return coeff * torch.logsumexp(logits, dim=-1).square().mean()


class Router(nn.Module):
    """Linear scoring of each token against N expert rows (Megatron ``mlp.router.weight`` [N, h]).

    With ``expert_bias``, a persistent buffer ``expert_bias`` [N] (state-dict key ``router.expert_bias``, as
    Megatron's) starts at 0; it is model state, saved and resumed with the checkpoint, and kept in fp32.
    """

    expert_bias: torch.Tensor | None

    def __init__(self, hidden: int, num_experts: int, topk: int, order: str, init_std: float = 0.02,
                 expert_bias: bool = False) -> None:
        super().__init__()
        if order not in ("softmax_topk", "topk_softmax"):
            raise ValueError(f"unknown router order {order!r}; use softmax_topk or topk_softmax")
        self.topk, self.order = topk, order
        self.weight = nn.Parameter(torch.empty(num_experts, hidden))
        nn.init.normal_(self.weight, 0.0, init_std)
        self.register_buffer("expert_bias", torch.zeros(num_experts) if expert_bias else None)

    def _apply(self, fn, recurse=True):
        """Module casts (``.to(bf16)``, ``.half()``) leave the selection bias in fp32, as Megatron keeps it: a
        bf16 bias cannot hold steps of γ = 1e-3 once it has grown past ~0.25."""
        bias = self.expert_bias
        out = super()._apply(fn, recurse)
        if bias is not None and self.expert_bias is not None and self.expert_bias.dtype != torch.float32:
            self.expert_bias = bias.to(device=self.expert_bias.device, dtype=torch.float32)  # unrounded
        return out

    def forward(self, x: torch.Tensor) -> Routing:
        """x [S, h] → routing decisions for every token."""
        with autocast_off(x.device.type):
            logits = F.linear(x.float(), self.weight.float())  # [S, N]
        bias = None if self.expert_bias is None else self.expert_bias.float()
        return route(logits, self.topk, self.order, bias)
