"""The element-wise MLP nonlinearities shared by the dense MLP and the experts.

Element-wise along the intermediate axis is what makes granular upcycling exact: an MLP of width F equals
the sum of G MLPs over disjoint slices of that axis.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def activate(h: torch.Tensor, activation: str) -> torch.Tensor:
    """Apply the nonlinearity; for SwiGLU ``h`` holds [gate | up] along the last axis and halves in width."""
    if activation == "squared_relu":
        return F.relu(h).square()
    if activation == "gelu":
        return F.gelu(h)
    if activation == "swiglu":
        gate, up = h.chunk(2, dim=-1)
        return F.silu(gate) * up
    raise ValueError(f"unknown activation {activation!r}; use squared_relu, swiglu or gelu")


def fc1_rows(activation: str, width: int) -> int:
    """Output rows of fc1 for an MLP of intermediate ``width``: SwiGLU stacks gate and up."""
    return 2 * width if activation == "swiglu" else width
