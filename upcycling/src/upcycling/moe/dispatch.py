"""Token dispatch: group (token, expert) assignments by expert, run grouped matmuls, scatter back.

Dropless by default (Megatron's default and the paper's setting): every assignment is computed. The
assignments are sorted by expert once (``make_plan``), so each expert's rows are contiguous and one grouped
matmul per projection covers all experts — no Python loop over experts in the hot path.

No host synchronisation on the dropless path: the plan is built from ``argsort`` and ``searchsorted`` (no
``bincount``, whose output size depends on the data, and no ``.item()``), so the forward can be captured in a
CUDA graph or compiled; the tests run it on the meta device, where any data-dependent shape fails. The
capacity path (boolean selection of the kept rows) and the padded-``bmm`` fallback (its block size is the
largest expert's row count) read one number back from the device each.

Permute and combine are gathers in both directions (custom autograd functions), never ``index_add_``:
their results do not depend on the order of atomic additions, so a run is bit-reproducible on a GPU, and the
combine never makes an fp32 copy of the expert rows. It gathers each token's T rows into slot order and
reduces them with one batched matmul against the routing weights ([S, 1, T] @ [S, T, h]), which accumulates
in fp32 inside the kernel and rounds once.

With a capacity factor, each expert keeps at most ceil(S·T/N · cf) assignments; the rest are dropped
(their contribution is zero and the residual stream carries the token), chosen by ``drop_policy``:
``probs`` keeps an expert's highest-weight assignments, ``position`` keeps the earliest tokens.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch

GROUPED_MM_AVAILABLE = hasattr(torch, "_grouped_mm")
GROUPED_MM_DTYPES = (torch.bfloat16,)
"""Input dtypes for which ``auto`` picks ``torch._grouped_mm`` (the dtype training computes in under autocast)."""


@dataclass
class DispatchPlan:
    token_ids: torch.Tensor
    """[M] source token of each expert-sorted row"""
    expert_ids: torch.Tensor
    """[M] expert of each row, non-decreasing"""
    weights: torch.Tensor
    """[M] fp32 routing weight of each row"""
    counts: torch.Tensor
    """[N] int64 rows per expert after drops"""
    flat_ids: torch.Tensor
    """[M] flat (token·T + slot) assignment id of each sorted row"""
    num_tokens: int
    dropped: int
    """assignments removed by the capacity limit"""
    slot_rows: torch.Tensor
    """[S·T] row of each (token, slot) assignment in the sorted order; M (one past the end) for a dropped one"""
    slot_weights: torch.Tensor
    """[S, T] fp32 routing weights in token order, 0 for dropped assignments"""


def expert_capacity(num_tokens: int, topk: int, num_experts: int, capacity_factor: float) -> int:
    """Megatron's capacity: ceil(tokens · T / N · cf)."""
    return math.ceil(num_tokens * topk / num_experts * capacity_factor)


def counts_from_sorted(sorted_ids: torch.Tensor, num_experts: int) -> torch.Tensor:
    """[N] int64 rows per expert of a non-decreasing id vector, without a host sync (unlike ``bincount``)."""
    edges = torch.arange(num_experts + 1, device=sorted_ids.device, dtype=sorted_ids.dtype)
    return torch.diff(torch.searchsorted(sorted_ids, edges))


def make_plan(
    indices: torch.Tensor,
    weights: torch.Tensor,
    num_experts: int,
    capacity_factor: float | None = None,
    drop_policy: str = "probs",
) -> DispatchPlan:
    """Sort the [S, T] assignments by expert, applying the capacity limit when one is set."""
    s, t = indices.shape
    flat_e = indices.reshape(-1)  # [S·T], flat index = token·T + slot
    flat_w = weights.reshape(-1).float()
    if capacity_factor is None:
        order = torch.argsort(flat_e, stable=True)  # [S·T], token order kept inside each expert
        dropped = 0
    else:
        order = _capacity_order(flat_e, flat_w, num_experts, expert_capacity(s, t, num_experts, capacity_factor),
                                drop_policy)
        dropped = flat_e.numel() - order.numel()
    m = order.numel()
    expert_ids = flat_e[order]
    slot_rows = torch.full((s * t,), m, dtype=torch.long, device=indices.device)
    slot_rows = slot_rows.scatter(0, order, torch.arange(m, device=indices.device))
    kept = slot_rows < m
    return DispatchPlan(
        token_ids=torch.div(order, t, rounding_mode="floor"),
        expert_ids=expert_ids,
        weights=flat_w[order],
        flat_ids=order,
        counts=counts_from_sorted(expert_ids, num_experts),
        num_tokens=s,
        dropped=dropped,
        slot_rows=slot_rows,
        slot_weights=(flat_w * kept).view(s, t),
    )


def _capacity_order(flat_e: torch.Tensor, flat_w: torch.Tensor, num_experts: int, capacity: int,
                    drop_policy: str) -> torch.Tensor:
    """Expert-sorted assignment ids, keeping the first ``capacity`` of each expert under ``drop_policy``."""
    if drop_policy == "probs":
        by_weight = torch.argsort(-flat_w, stable=True)  # highest weight first
        order = by_weight[torch.argsort(flat_e[by_weight], stable=True)]
    elif drop_policy == "position":
        order = torch.argsort(flat_e, stable=True)  # earliest token first
    else:
        raise ValueError(f"unknown drop policy {drop_policy!r}; use probs or position")
    sorted_e = flat_e[order]
    counts = counts_from_sorted(sorted_e, num_experts)
    starts = torch.cumsum(counts, 0) - counts  # [N] first row of each expert
    rank = torch.arange(order.numel(), device=order.device) - starts[sorted_e]  # position inside its expert
    return order[rank < capacity]  # the one host sync of the capacity path (the kept count)


class _Permute(torch.autograd.Function):
    """x [S, h] → rows [M, h] = x[token_ids]; backward gathers each token's T row gradients and sums them."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, token_ids: torch.Tensor, slot_rows: torch.Tensor, topk: int) -> torch.Tensor:
        ctx.save_for_backward(slot_rows)
        ctx.topk = topk
        return x.index_select(0, token_ids)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (slot_rows,) = ctx.saved_tensors
        padded = torch.cat([g, g.new_zeros(1, g.shape[1])])  # row M = a dropped assignment's zero gradient
        gx = padded.index_select(0, slot_rows).view(-1, ctx.topk, g.shape[1]).sum(1)  # [S, h]
        return gx, None, None, None


class _ToSlots(torch.autograd.Function):
    """rows [M, h] → [S·T, h] in (token, slot) order, zero rows for dropped slots; backward is the inverse gather."""

    @staticmethod
    def forward(ctx, y: torch.Tensor, slot_rows: torch.Tensor, order_rows: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(order_rows)
        return torch.cat([y, y.new_zeros(1, y.shape[1])]).index_select(0, slot_rows)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (order_rows,) = ctx.saved_tensors
        return g.index_select(0, order_rows), None, None


def permute(x: torch.Tensor, plan: DispatchPlan) -> torch.Tensor:
    """x [S, h] → [M, h] rows grouped by expert."""
    return _Permute.apply(x, plan.token_ids, plan.slot_rows, plan.slot_weights.shape[1])


def unpermute(y: torch.Tensor, plan: DispatchPlan) -> torch.Tensor:
    """[M, h] expert outputs → [S, h]: Σ over each token's rows of weight · row, one batched matmul.

    The routing weights are rounded to ``y``'s dtype (as the expert rows already are); the sum over the T
    rows accumulates in fp32 inside the matmul. No fp32 copy of the M rows is made.
    """
    s, t = plan.slot_weights.shape
    slots = _ToSlots.apply(y, plan.slot_rows, plan.flat_ids).view(s, t, y.shape[-1])  # [S, T, h]
    w = plan.slot_weights.to(y.dtype).unsqueeze(1)  # [S, 1, T]
    return torch.bmm(w, slots).squeeze(1)  # [S, h]


def grouped_mm_preferred(device: torch.device) -> bool:
    """Whether ``auto`` should use ``torch._grouped_mm`` on this device (tests monkeypatch this on CPU).

    CUDA from sm80 (A100) on: current torch runs its grouped GEMM there (CUTLASS on sm90/sm100, a fallback
    kernel on sm80/sm89). CPU: the kernel exists and is exact (the tests run it), but measured 8x slower than
    padded bmm here (4096 rows, 8 experts, 128→512, 2 threads: 0.22 s vs 0.028 s), so ``auto`` leaves it off.
    """
    if device.type != "cuda" or not GROUPED_MM_AVAILABLE:
        return False
    major, _ = torch.cuda.get_device_capability(device)
    return major >= 8


def grouped_mm_ok(x: torch.Tensor, w: torch.Tensor) -> bool:
    """``auto``'s choice for x [M, K] and w [N, out, K] already in the compute dtype: the grouped kernel where
    the device prefers it, the dtype is one it runs (bf16) and rows are 16-byte aligned."""
    if not GROUPED_MM_AVAILABLE or x.shape[0] == 0 or x.dtype not in GROUPED_MM_DTYPES or w.dtype != x.dtype:
        return False
    return grouped_mm_preferred(x.device) and x.shape[1] % 8 == 0 and w.shape[1] % 8 == 0


def autocast_off(device_type: str) -> contextlib.AbstractContextManager:
    """Autocast disabled on ``device_type``; a no-op on devices autocast does not know (meta, in the tests)."""
    if device_type in ("cpu", "cuda", "xpu", "mps", "hpu"):
        return torch.autocast(device_type=device_type, enabled=False)
    return contextlib.nullcontext()


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype expert matmuls run in: the autocast dtype when autocast is on for x's device, else x's.

    Under the Trainer's bf16 autocast the residual stream and the fp32 master weights reach the experts in
    fp32; autocast would cast them for ``F.linear`` but not for ``torch._grouped_mm``, so the experts cast
    both themselves (the fp32 parameters stay the master copy and receive fp32 gradients).
    """
    if x.is_floating_point() and x.device.type in ("cpu", "cuda") and torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def grouped_mm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor, impl: str = "auto") -> torch.Tensor:
    """Row group i of x times w[i]ᵀ: x [M, K], w [N, out, K] (nn.Linear layout per expert) → [M, out].

    Both operands are first brought to ``compute_dtype(x)``. ``impl``: auto (``torch._grouped_mm`` where
    ``grouped_mm_ok``, else padded bmm), grouped_mm, or padded_bmm (the loop-free fallback).
    """
    dtype = compute_dtype(x)
    x, w = x.to(dtype), w.to(dtype)
    if impl == "auto":
        impl = "grouped_mm" if grouped_mm_ok(x, w) else "padded_bmm"
    if impl == "grouped_mm":
        offs = torch.cumsum(counts, 0).to(torch.int32)
        with autocast_off(x.device.type):
            y = torch._grouped_mm(x, w.transpose(1, 2), offs=offs)  # [M, out]
        if y.requires_grad and y.device.type == "cpu":
            # the CPU kernel's backward rejects expanded (stride-0) gradients such as the one of y.sum()
            y.register_hook(lambda g: g.contiguous())
        return y
    if impl == "padded_bmm":
        with autocast_off(x.device.type):
            return _padded_bmm(x, w, counts)
    raise ValueError(f"unknown grouped matmul implementation {impl!r}; use auto, grouped_mm or padded_bmm")


def _padded_bmm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Scatter each group into a zero-padded [N, C_max, K] block, one bmm, gather the rows back.

    The fallback reads C_max (the largest group) back to the host: one sync per call.
    """
    n = counts.numel()
    if x.shape[0] == 0:
        return x.new_zeros(0, w.shape[1])
    expert = torch.repeat_interleave(torch.arange(n, device=x.device), counts, output_size=x.shape[0])  # [M]
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(x.shape[0], device=x.device) - starts[expert]  # [M] row inside its group
    c_max = int(counts.max())
    padded = x.new_zeros(n, c_max, x.shape[1])  # [N, C, K]
    padded = padded.index_put((expert, slot), x)
    out = torch.bmm(padded, w.transpose(1, 2))  # [N, C, out]
    return out[expert, slot]  # [M, out]
