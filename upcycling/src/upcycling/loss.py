"""The training objective: next-token cross-entropy plus the MoE layers' auxiliary losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from upcycling.model import GPTOutput


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy in fp32: logits [B, S, V], targets [B, S]."""
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


def moe_losses(out: GPTOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """(Σ over layers of the α-weighted load-balancing loss, Σ of the z-losses); zeros for a dense model.

    Megatron adds each layer's aux loss to the objective; with α = 1e-2 and balanced routing each layer
    contributes α, so the sum's floor is n_layers·α.
    """
    zero = out.logits.new_zeros((), dtype=torch.float32)
    aux = sum((s.aux_loss for s in out.moe), zero)
    z = sum((s.z_loss for s in out.moe), zero)
    return aux, z


def total_loss(out: GPTOutput, targets: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    lm = lm_loss(out.logits, targets)
    aux, z = moe_losses(out)
    return lm + aux + z, {"lm_loss": lm.detach(), "aux_loss": aux.detach(), "z_loss": z.detach()}
