"""Dense → MoE as a pure state-dict transform (Megatron's ``upcycle_state_dict``; paper §2).

Coarse (G = 1): every expert is a copy of the dense MLP. Granular (G > 1) with virtual groups (§2.3, App. A):
the intermediate axis of the dense MLP is cut into G contiguous shards, expert j holds shard j mod G, so the
N = E·G experts form E blocks ("virtual groups") of G experts that together are one full dense MLP. The
router draws E random rows and gives row ⌊j/G⌋ to expert j: experts of a group tie, top-T with T = m·G picks
whole groups, and every shard is used m times.

Weight scaling (Eq. 2, spec §1.4): the routed output at step 0 is the dense output divided by an
activation scale s — s = G for topK-then-softmax (the T weights sum to 1, spread over G shards per group)
and s ≈ E·G²/T for softmax-then-topK (each weight ≈ 1/N). Both W1 and W2 of every expert are multiplied by
a = s^(1/3) for squared-ReLU and SwiGLU (the MLP is homogeneous of degree 3 in (W1, W2) for squared-ReLU;
SwiGLU is treated the same, as the paper does) or a = s^(1/2) for GELU (degree 2, ReLU-like). The fc1 bias
is sharded and scaled with W1; the fc2 bias is copied unscaled to every expert, because each expert adds it
once and the routing weights then sum it back to the dense bias (exactly so for topK-then-softmax).
"""

from __future__ import annotations

import logging

import torch

from upcycling.config import GPTConfig, MoEConfig

log = logging.getLogger(__name__)


def check_upcycling(cfg: GPTConfig, moe: MoEConfig) -> None:
    """Refuse layouts that cannot be built, before any tensor is touched."""
    g = moe.granularity
    if cfg.ffn_hidden % g:
        raise ValueError(
            f"granularity G={g} does not divide the dense ffn_hidden={cfg.ffn_hidden}: the experts would not be "
            f"equal shards; pick G among the divisors of {cfg.ffn_hidden}"
        )
    if moe.topk % g:
        raise ValueError(
            f"top-K T={moe.topk} is not a multiple of granularity G={g}: top-T could pick part of a virtual "
            f"group and miss a shard of the dense MLP; use T = m·G (e.g. T={g})"
        )
    if moe.num_experts % g:
        raise ValueError(
            f"num_experts N={moe.num_experts} is not a multiple of granularity G={g}: experts come in virtual "
            f"groups of G shards; use N = E·G (e.g. N={g * max(1, moe.num_experts // g)})"
        )


def activation_scale(moe: MoEConfig) -> float:
    """s: how much smaller the upcycled layer's output is at init (Megatron ``_get_moe_activation_scale``)."""
    g = moe.granularity
    if moe.router_order == "softmax_topk":
        return moe.expansion_rate * g * g / moe.topk
    return float(g)


def weight_scale(moe: MoEConfig, activation: str) -> float:
    """a = s^(1/3) for squared-ReLU/SwiGLU, s^(1/2) for GELU; applied to both W1 and W2."""
    power = 1.0 / 2.0 if activation == "gelu" else 1.0 / 3.0
    return activation_scale(moe) ** power


def shard_rows(fc1: torch.Tensor, activation: str, g: int, shard: int) -> torch.Tensor:
    """Rows of fc1 (weight [F1, h] or bias [F1]) for intermediate shard ``shard`` of G.

    SwiGLU's fc1 is [gate; up]: both halves are cut with the same index set, so the shard stays a SwiGLU.
    """
    if activation == "swiglu":
        gate, up = fc1.chunk(2, dim=0)
        return torch.cat([shard_rows(gate, "gelu", g, shard), shard_rows(up, "gelu", g, shard)], dim=0)
    width = fc1.shape[0] // g
    return fc1[shard * width:(shard + 1) * width]


def _get(sd: dict[str, torch.Tensor], key: str, shape: tuple[int, ...]) -> torch.Tensor:
    if key not in sd:
        raise KeyError(f"dense state dict has no '{key}'; is it a dense checkpoint of this GPTConfig?")
    t = sd[key]
    if tuple(t.shape) != shape:
        raise ValueError(f"dense '{key}' has shape {tuple(t.shape)}, the config expects {shape}")
    return t


def upcycle_mlp(
    dense: dict[str, torch.Tensor], prefix: str, cfg: GPTConfig, moe: MoEConfig, router_rows: torch.Tensor,
    scale: float,
) -> dict[str, torch.Tensor]:
    """The MoE tensors of one layer from the dense ``{prefix}fc1.*``/``{prefix}fc2.*``."""
    f, h, g, n = cfg.ffn_hidden, cfg.hidden, moe.granularity, moe.num_experts
    f1 = 2 * f if cfg.activation == "swiglu" else f
    w1 = _get(dense, f"{prefix}fc1.weight", (f1, h)).float()
    w2 = _get(dense, f"{prefix}fc2.weight", (h, f)).float()
    fe = f // g
    shards = range(n)  # expert j ← shard j mod G
    out = {
        f"{prefix}router.weight": router_rows.repeat_interleave(g, dim=0),  # [N, h], row j = R[j // G]
        f"{prefix}experts.w1": torch.stack([shard_rows(w1, cfg.activation, g, j % g) for j in shards]) * scale,
        f"{prefix}experts.w2": torch.stack([w2[:, (j % g) * fe:(j % g + 1) * fe] for j in shards]) * scale,
    }
    if cfg.bias:
        b1 = _get(dense, f"{prefix}fc1.bias", (f1,)).float()
        b2 = _get(dense, f"{prefix}fc2.bias", (h,)).float()
        out[f"{prefix}experts.b1"] = torch.stack([shard_rows(b1, cfg.activation, g, j % g) for j in shards]) * scale
        out[f"{prefix}experts.b2"] = b2.expand(n, h).clone()  # replicated, unscaled
    dtype = dense[f"{prefix}fc1.weight"].dtype
    return {k: v.to(dtype).contiguous() for k, v in out.items()}


def upcycle_state_dict(
    dense: dict[str, torch.Tensor],
    cfg: GPTConfig,
    moe: MoEConfig,
    *,
    weight_scaling: bool = True,
    router_init_std: float = 0.02,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The MoE GPT's state dict from the dense GPT's: MLPs upcycled, everything else copied."""
    check_upcycling(cfg, moe)
    scale = weight_scale(moe, cfg.activation) if weight_scaling else 1.0
    log.info("upcycling to %s (%d experts, %s): activation scale %.4g, weight factor a = %.4g",
             moe.name(), moe.num_experts, moe.router_order, activation_scale(moe), scale)
    groups = moe.num_experts // moe.granularity
    out = {k: v for k, v in dense.items() if ".mlp." not in k}
    for layer in range(cfg.n_layers):
        prefix = f"layers.{layer}.mlp."
        # Megatron draws a full [N, h] router and keeps its first N/G rows; drawing [E, h] is the same law
        rows = torch.empty(groups, cfg.hidden).normal_(0.0, router_init_std, generator=generator)
        out.update(upcycle_mlp(dense, prefix, cfg, moe, rows, scale))
    leftover = [k for k in dense if ".mlp." in k and not k.rsplit(".mlp.", 1)[1].startswith(("fc1.", "fc2."))]
    if leftover:
        raise ValueError(f"dense state dict has MLP keys upcycling does not know: {leftover[:5]}")
    return out

