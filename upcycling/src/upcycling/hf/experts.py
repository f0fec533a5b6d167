"""Per-tensor upcycling of one Hugging Face gated MLP projection into N expert tensors.

The math lives in ``upcycling.upcycle`` (virtual groups, shards, activation scale, weight factors, router);
this module only applies it one dense tensor at a time, because HF checkpoints store gate, up and down as
separate tensors, possibly in different shards, and the streaming converter must not hold a whole layer.

Every Llama/Mistral/Qwen2 MLP is gated, ``down(act(gate x) ⊙ up x)``, so the two scaling rules of
``upcycling.upcycle`` apply as for our SwiGLU: ``paper`` (a = s^(1/3) on gate, up and down; approximate) and
``exact`` (s^(1/2) on up and down; dense-equal for topK-then-softmax).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from upcycling.config import GluScaling, MoEConfig
from upcycling.upcycle import scaled_shards, weight_factors

HF_PARTS = {"gate_proj": "gate", "up_proj": "up", "down_proj": "down"}
"""HF projection name → the part name of ``upcycling.upcycle.weight_factors``."""


def part_factors(moe: MoEConfig, weight_scaling: bool, glu_scaling: GluScaling) -> dict[str, float]:
    """Multiplier of each dense HF projection in the experts."""
    factors = weight_factors(moe, "swiglu", weight_scaling=weight_scaling, glu_scaling=glu_scaling)
    return {hf: factors[ours] for hf, ours in HF_PARTS.items()}


def expert_tensors(weight: torch.Tensor, part: str, moe: MoEConfig, factor: float) -> Iterator[torch.Tensor]:
    """Expert j's copy of ``weight`` for j = 0..N-1: shard j mod G, times ``factor``, in the source dtype.

    gate/up [F, h] are cut along rows, down [h, F] along columns. Each yielded tensor owns its memory
    (safetensors refuses tensors that share storage), and only the G distinct shards are computed, so memory
    stays at one dense tensor plus one expert tensor.
    """
    g = moe.granularity
    shards = scaled_shards(weight, g, factor, cols=part == "down_proj")
    for j in range(moe.num_experts):
        yield shards[j % g].clone(memory_format=torch.contiguous_format)
