"""Aux-loss-free load balancing (Wang et al. 2024; DeepSeek-V3 §2.1.2; Megatron ``--moe-router-enable-expert-bias``).

Each router holds a bias b [N] that shifts the top-T choice (``upcycling.moe.router``). After every optimizer
step, b_e += γ · sign(mean_e' c_e' − c_e), where c_e counts the assignments expert e received over the step's
micro-batches (summed over data-parallel ranks): overloaded experts become less likely to be chosen, idle ones
more. No gradient flows through b, and the combine weights never see it.

The counts come from the ``MoEStats`` the step function already receives, so the model keeps no
accumulator of its own; the update runs from an optimizer step post-hook (``attach``), once per real step.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from upcycling.moe.layer import MoELayer, MoEStats


def expert_bias_update(bias: torch.Tensor, counts: torch.Tensor, rate: float) -> torch.Tensor:
    """b + γ · sign(mean(c) − c) (Megatron ``get_updated_expert_bias``); ``bias`` fp32 [N], ``counts`` [N]."""
    c = counts.float()
    return bias + rate * torch.sign(c.mean() - c)


def biased_layers(model: nn.Module) -> list[MoELayer]:
    """The model's MoE layers with an expert bias, in layer order (the order of ``GPTOutput.moe``)."""
    return [m for m in model.modules() if isinstance(m, MoELayer) and m.router.expert_bias is not None]


class ExpertBiasBalancer:
    """Sums each MoE layer's expert counts over a step's micro-batches, then moves the biases once."""

    def __init__(self, model: nn.Module) -> None:
        self.layers = biased_layers(model)
        self.pending: list[torch.Tensor] | None = None

    def __bool__(self) -> bool:
        return bool(self.layers)

    def record(self, stats: list[MoEStats]) -> None:
        """Add one micro-batch's counts (one ``MoEStats`` per MoE layer, as the model returns them)."""
        if not self.layers:
            return
        if len(stats) != len(self.layers):
            raise ValueError(f"{len(stats)} MoE layers reported, {len(self.layers)} have an expert bias; every MoE "
                             "layer of a model shares one MoEConfig, so this is a bug in the caller")
        counts = [s.counts.detach() for s in stats]
        self.pending = counts if self.pending is None else [a + b for a, b in zip(self.pending, counts, strict=True)]

    @torch.no_grad()
    def update(self) -> None:
        """Apply the bias step for the counts recorded since the last update (a no-op if none were)."""
        if self.pending is None:
            return
        counts = torch.stack(self.pending)  # [L, N]
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(counts)  # every rank applies the same step, so the biases stay identical
        for layer, c in zip(self.layers, counts, strict=True):
            bias = layer.router.expert_bias
            bias.copy_(expert_bias_update(bias.float(), c.to(bias.device), layer.cfg.expert_bias_rate))
        self.pending = None

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Run ``update`` after every ``optimizer.step()``."""
        optimizer.register_step_post_hook(lambda *_: self.update())
