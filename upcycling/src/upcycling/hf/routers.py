"""Keep the routers of a loaded transformers MoE in fp32 while the rest runs in bf16.

Why: virtual-group upcycling ties the router rows of each group of G experts, and top-T with T = m·G picks
whole groups only while different groups' logits stay distinct. In bf16 two groups' logits round to the same
value often enough that top-T takes part of one group and part of another (measured on a tiny converted Llama,
64 × 64 random tokens, 2 layers: 0 of 8,192 routing decisions for E8G1T2 and E2G4T4, but 36 of 8,192 = 0.44 %
for E8G8T8; 0 in fp32 — ``tests/test_hf_routers.py``). transformers has no ``_keep_in_fp32_modules`` entry
for these routers and ``from_pretrained(dtype=bfloat16)`` casts the stored fp32 gate, so the fix is applied
after loading: ``fp32_routers(model)`` casts every router weight to fp32 and routes fp32 hidden states,
handing the experts their weights back in the model's dtype (Megatron's ``--moe-router-dtype fp32``).
"""

from __future__ import annotations

import types

import torch
from torch import nn

ROUTER_CLASSES = ("MixtralTopKRouter", "Qwen2MoeTopKRouter", "Qwen3MoeTopKRouter", "OlmoeTopKRouter")


def _fp32_forward(self: nn.Module, hidden_states: torch.Tensor):
    logits, scores, indices = type(self).forward(self, hidden_states.float())
    return logits, scores.to(hidden_states.dtype), indices


def fp32_routers(model: nn.Module) -> int:
    """Make every transformers top-k router of ``model`` compute in fp32; returns how many were changed."""
    changed = 0
    for module in model.modules():
        if type(module).__name__ in ROUTER_CLASSES:
            module.weight.data = module.weight.data.float()
            module.forward = types.MethodType(_fp32_forward, module)
            changed += 1
    return changed
