"""Per-tensor upcycling of one Hugging Face gated MLP projection into N expert tensors.

The math lives in ``upcycling.upcycle`` (virtual groups, activation scale, weight factor); this module
only applies it one dense tensor at a time, because HF checkpoints store gate, up and down as separate
tensors, possibly in different shards, and the streaming converter must not hold a whole layer.

Weight scaling of a gated MLP ``down(act(gate x) ⊙ up x)`` (every Llama/Mistral/Qwen2 MLP), two options:

- ``paper`` (default): a = s^(1/3) on gate, up and down, as the paper and Megatron treat SwiGLU
  (``weight_scale(moe, "swiglu")``). act is not homogeneous (silu(a·z) ≠ a·silu(z)), so the upcycled
  output equals the dense one only approximately; the tests measure how far.
- ``exact``: a = s^(1/2) on up and down only. The MLP is linear in ``up`` and in ``down`` whatever the
  activation, so this restores the dense output exactly (topK-then-softmax) and is the choice when the
  upcycled model must start as the dense function.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Literal

import torch

from upcycling.config import MoEConfig
from upcycling.upcycle import activation_scale, check_upcycling, shard_rows, weight_scale

GluScaling = Literal["paper", "exact"]
GATED_PARTS = ("gate_proj", "up_proj", "down_proj")


def check_layout(intermediate_size: int, moe: MoEConfig) -> None:
    """G | F, G | T, G | N: ``upcycling.upcycle.check_upcycling`` reads only ``ffn_hidden`` of the model."""
    check_upcycling(SimpleNamespace(ffn_hidden=intermediate_size), moe)  # type: ignore[arg-type]


def part_factors(moe: MoEConfig, weight_scaling: bool, glu_scaling: GluScaling) -> dict[str, float]:
    """Multiplier of each dense projection in the experts."""
    if not weight_scaling:
        return dict.fromkeys(GATED_PARTS, 1.0)
    if glu_scaling == "paper":
        return dict.fromkeys(GATED_PARTS, weight_scale(moe, "swiglu"))
    if glu_scaling == "exact":
        a = activation_scale(moe) ** 0.5
        return {"gate_proj": 1.0, "up_proj": a, "down_proj": a}
    raise ValueError(f"unknown GLU scaling {glu_scaling!r}; use paper or exact")


def intermediate_shard(weight: torch.Tensor, part: str, granularity: int, shard: int) -> torch.Tensor:
    """Slice ``shard`` of G along the intermediate axis: rows of gate/up [F, h], columns of down [h, F]."""
    if part == "down_proj":
        return shard_rows(weight.T, "plain", granularity, shard).T  # [h, F/G]
    return shard_rows(weight, "plain", granularity, shard)  # [F/G, h]


def expert_tensors(weight: torch.Tensor, part: str, moe: MoEConfig, factor: float) -> Iterator[torch.Tensor]:
    """Expert j's copy of ``weight`` for j = 0..N-1: shard j mod G, times ``factor``, in the source dtype.

    Each yielded tensor owns its memory (safetensors refuses tensors that share storage), and only the G
    distinct shards are computed, so memory stays at one dense tensor plus one expert tensor.
    """
    g = moe.granularity
    shards = [intermediate_shard(weight, part, g, s) for s in range(g)]
    if factor != 1.0:
        shards = [(s.float() * factor).to(weight.dtype) for s in shards]
    for j in range(moe.num_experts):
        yield shards[j % g].clone(memory_format=torch.contiguous_format)


def virtual_group_router(moe: MoEConfig, hidden: int, std: float, generator: torch.Generator,
                         dtype: torch.dtype) -> torch.Tensor:
    """Router [N, h]: E = N/G rows drawn from N(0, std²), row j = R[⌊j/G⌋] (ties inside each group).

    Draws exactly as ``upcycling.upcycle.upcycle_state_dict`` does (fp32, [E, h], one generator stepped
    layer by layer), so our converter and the HF converter give the same router for the same seed.
    TO BE MERGED into ``upcycling.upcycle`` (which inlines these two lines).
    """
    rows = torch.empty(moe.num_experts // moe.granularity, hidden).normal_(0.0, std, generator=generator)
    return rows.repeat_interleave(moe.granularity, dim=0).to(dtype)  # [N, h]
