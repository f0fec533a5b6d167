"""The MoE layer in Megatron's four steps: route → dispatch → expert compute → combine.

State-dict keys under the layer: ``router.weight`` [N, h], ``experts.w1`` [N, F1, h], ``experts.w2``
[N, h, F_e] and, with biases, ``experts.b1`` [N, F1], ``experts.b2`` [N, h].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from upcycling.config import MoEConfig
from upcycling.moe.dispatch import DispatchPlan, make_plan, permute, unpermute
from upcycling.moe.experts import GroupedExperts, SequentialExperts, SharedExperts
from upcycling.moe.router import Router, Routing, switch_load_balancing_loss, tokens_per_expert, z_loss


@dataclass
class MoEStats:
    """What one MoE layer reports per forward: losses to add, and the expert load to log."""

    aux_loss: torch.Tensor
    """α-weighted Switch load-balancing loss (scalar, differentiable)"""
    z_loss: torch.Tensor
    """coefficient-weighted router z-loss (scalar; 0 when disabled)"""
    load: torch.Tensor
    """[N] fraction of routed assignments per expert before drops (detached)"""
    dropped: int
    """assignments dropped by the capacity limit"""
    counts: torch.Tensor | None = None
    """[N] int64 routed assignments per expert before drops (detached; what expert-bias balancing reads)"""


class MoELayer(nn.Module):
    def __init__(self, hidden: int, expert_ffn_hidden: int, activation: str, bias: bool, moe: MoEConfig,
                 init_std: float = 0.02, reference: bool = False) -> None:
        super().__init__()
        self.cfg = moe
        self.router = Router(hidden, moe.num_experts, moe.topk, moe.router_order, init_std, moe.expert_bias)
        experts_cls = SequentialExperts if reference else GroupedExperts
        self.experts = experts_cls(moe.num_experts, hidden, expert_ffn_hidden, activation, bias, init_std)
        self.shared_experts = (SharedExperts(hidden, moe.shared_experts * expert_ffn_hidden, activation, bias)
                               if moe.shared_experts else None)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, MoEStats]:
        """x [..., h] → (y [..., h], stats)."""
        flat = x.reshape(-1, x.shape[-1])  # [S, h], S = all tokens of the batch
        routing = self.router(flat)
        plan = self.dispatch(routing)
        y_sorted = self.experts(permute(flat, plan), plan.counts, plan.expert_ids)  # [M, h]
        y = unpermute(y_sorted, plan)  # [S, h]
        if self.shared_experts is not None:
            y = y + self.shared_experts(flat)  # [S, h]
        return y.reshape(x.shape), self.statistics(routing, plan)

    def dispatch(self, routing: Routing) -> DispatchPlan:
        return make_plan(routing.indices, routing.weights, self.cfg.num_experts, self.cfg.capacity_factor,
                         self.cfg.drop_policy)

    def statistics(self, routing: Routing, plan: DispatchPlan) -> MoEStats:
        cfg = self.cfg
        aux = switch_load_balancing_loss(routing.probs, routing.indices, cfg.aux_loss_coeff)
        zl = z_loss(routing.logits, cfg.z_loss_coeff) if cfg.z_loss_coeff > 0 else routing.logits.new_zeros(())
        counts = tokens_per_expert(routing.indices, cfg.num_experts)  # [N] int64, detached by construction
        load = counts.float() / counts.sum()
        return MoEStats(aux_loss=aux, z_loss=zl, load=load, dropped=plan.dropped, counts=counts)
