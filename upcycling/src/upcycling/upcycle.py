"""Dense → MoE as a pure state-dict transform (Megatron's ``upcycle_state_dict``; paper §2).

This module is the one copy of the upcycling math; ``upcycling.hf`` applies the same functions one Hugging
Face tensor at a time.

Coarse (G = 1): every expert is a copy of the dense MLP. Granular (G > 1) with virtual groups (§2.3, App. A):
the intermediate axis of the dense MLP is cut into G contiguous shards, expert j holds shard j mod G, so the
N = E·G experts form E blocks ("virtual groups") of G experts that together are one full dense MLP. The
router draws E random rows and gives row ⌊j/G⌋ to expert j: experts of a group tie, top-T with T = m·G picks
whole groups, and every shard is used m times.

Weight scaling (paper Eq. 2): the routed output at step 0 is the dense output divided by an activation
scale s — s = G for topK-then-softmax (the T weights sum to 1, spread over G shards per group) and
s ≈ E·G²/T for softmax-then-topK (each weight ≈ 1/N). Two rules undo it:

- ``paper`` (default, faithful to the paper and Megatron): W1 and W2 of every expert are multiplied by
  a = s^(1/3) for squared-ReLU and SwiGLU, a = s^(1/2) for GELU. Exact for squared-ReLU (the MLP is
  homogeneous of degree 3 in (W1, W2)); only approximate for SwiGLU and GELU, because silu and gelu are not
  homogeneous (silu(a·z) ≠ a·silu(z)).
- ``exact`` (gated MLPs only): for SwiGLU ``down(silu(gate x) ⊙ up x)``, leave gate alone and multiply up
  and down by s^(1/2). The MLP is linear in up and in down whatever the activation, so the output grows by
  exactly s and topK-then-softmax upcycling starts as the dense function.

Shared experts (``moe.shared_experts`` = S, an option beyond the paper): the shared MLP of width S·F/G holds
the dense shards j mod G for j < S, i.e. S/G full copies of the dense MLP (S must be a multiple of G). The
layer output is then shared + routed, so each half is made to carry half of the dense output: with weight
scaling, the routed experts' down projection gets an extra factor 1/2 on top of the rule above and the
shared down projection G/(2S). Only the down projections change, and the MLP is linear in them whatever the
activation, so the split adds no error of its own (step 0 is as exact as the routed rule alone). Without
weight scaling both are copied unscaled. The shared fc2 bias starts at 0 (the routed experts carry it).

MoE layer frequency (``moe.moe_every`` = k): only layers i with i % k == 0 are upcycled (and draw a router);
the others keep their dense ``fc1``/``fc2`` as they are. Expert bias (``moe.expert_bias``): each router's
``expert_bias`` starts at 0 in fp32.

The fc1 bias is sharded and scaled with its rows of W1; the fc2 bias is copied unscaled to every expert,
because each expert adds it once and the routing weights then sum it back to the dense bias (exactly so for
topK-then-softmax).
"""

from __future__ import annotations

import logging
from typing import get_args

import torch

from upcycling.config import GluScaling, GPTConfig, MoEConfig

log = logging.getLogger(__name__)


def check_moe_shape(ffn_hidden: int, moe: MoEConfig) -> None:
    """Refuse layouts that cannot be built from a dense MLP of width F, before any tensor is touched."""
    g = moe.granularity
    if ffn_hidden % g:
        raise ValueError(
            f"granularity G={g} does not divide the dense ffn_hidden={ffn_hidden}: the experts would not be "
            f"equal shards; pick G among the divisors of {ffn_hidden}"
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
    if moe.shared_experts % g:
        raise ValueError(
            f"moe.shared_experts={moe.shared_experts} is not a multiple of granularity G={g}: upcycled shared "
            f"experts are whole copies of the dense MLP (G shards each); use moe.shared_experts={g} (or 0)"
        )


def activation_scale(moe: MoEConfig) -> float:
    """s: how much smaller the upcycled layer's output is at init (Megatron ``_get_moe_activation_scale``)."""
    g = moe.granularity
    if moe.router_order == "softmax_topk":
        return moe.expansion_rate * g * g / moe.topk
    return float(g)


def weight_scale(moe: MoEConfig, activation: str) -> float:
    """The paper's a = s^(1/3) for squared-ReLU/SwiGLU, s^(1/2) for GELU; applied to both W1 and W2."""
    power = 1.0 / 2.0 if activation == "gelu" else 1.0 / 3.0
    return activation_scale(moe) ** power


def weight_factors(moe: MoEConfig, activation: str, *, weight_scaling: bool = True,
                   glu_scaling: GluScaling = "paper") -> dict[str, float]:
    """Multiplier of each dense projection in the experts: keys gate (SwiGLU only), up (= fc1) and down (= fc2)."""
    if glu_scaling not in get_args(GluScaling):
        raise ValueError(f"glu_scaling={glu_scaling!r}; use one of {get_args(GluScaling)}")
    gated = activation == "swiglu"
    if glu_scaling == "exact" and not gated:
        raise ValueError(f"glu_scaling='exact' needs a gated MLP (swiglu), not {activation!r}; use 'paper'")
    if not weight_scaling:
        a = {"gate": 1.0, "up": 1.0, "down": 1.0}
    elif glu_scaling == "exact":
        root = activation_scale(moe) ** 0.5
        a = {"gate": 1.0, "up": root, "down": root}
    else:
        a = dict.fromkeys(("gate", "up", "down"), weight_scale(moe, activation))
    return a if gated else {"up": a["up"], "down": a["down"]}


def shared_split(moe: MoEConfig, weight_scaling: bool = True) -> tuple[float, float]:
    """(extra factor on the routed down projections, factor on the shared down projection): (1/2, G/(2S))
    with shared experts and weight scaling, so each part carries half of the dense output; else (1, 1)."""
    if not moe.shared_experts or not weight_scaling:
        return 1.0, 1.0
    return 0.5, moe.granularity / (2.0 * moe.shared_experts)


def shard_rows(t: torch.Tensor, g: int, shard: int) -> torch.Tensor:
    """Intermediate shard ``shard`` of G along dim 0: fc1/gate/up weight [F, h] → [F/G, h], or a bias [F]."""
    width = t.shape[0] // g
    return t[shard * width:(shard + 1) * width]


def shard_cols(w: torch.Tensor, g: int, shard: int) -> torch.Tensor:
    """Intermediate shard ``shard`` of G along dim 1: fc2/down weight [h, F] → [h, F/G]."""
    width = w.shape[1] // g
    return w[:, shard * width:(shard + 1) * width]


def scaled_shards(w: torch.Tensor, g: int, factor: float, *, cols: bool = False) -> list[torch.Tensor]:
    """The G distinct expert shards of one dense projection, times ``factor`` (in fp32), in ``w``'s dtype.

    Expert j uses shard j mod G; computing only the G distinct ones keeps memory at one dense tensor.
    """
    cut = shard_cols if cols else shard_rows
    shards = [cut(w, g, s) for s in range(g)]
    if factor != 1.0:
        shards = [(s.float() * factor).to(w.dtype) for s in shards]
    return shards


def virtual_group_router(moe: MoEConfig, hidden: int, std: float, generator: torch.Generator | None,
                         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Router [N, h]: E = N/G rows drawn from N(0, std²) in fp32, row j = R[⌊j/G⌋] (ties inside each group).

    Megatron draws a full [N, h] router and keeps its first N/G rows; drawing [E, h] is the same law. Called
    once per layer with one generator, so a seed fixes every layer's router.
    """
    rows = torch.empty(moe.num_experts // moe.granularity, hidden).normal_(0.0, std, generator=generator)
    return rows.repeat_interleave(moe.granularity, dim=0).to(dtype)  # [N, h]


def _get(sd: dict[str, torch.Tensor], key: str, shape: tuple[int, ...]) -> torch.Tensor:
    if key not in sd:
        raise KeyError(f"dense state dict has no '{key}'; is it a dense checkpoint of this GPTConfig?")
    t = sd[key]
    if tuple(t.shape) != shape:
        raise ValueError(f"dense '{key}' has shape {tuple(t.shape)}, the config expects {shape}")
    return t


def _fc1_experts(fc1: torch.Tensor, n: int, g: int, factors: dict[str, float]) -> torch.Tensor:
    """fc1 weight [F1, h] or bias [F1] → [N, F1/G, ...]; SwiGLU's [gate; up] halves are cut and scaled apart."""
    if "gate" in factors:
        gate, up = fc1.chunk(2, dim=0)
        gates, ups = scaled_shards(gate, g, factors["gate"]), scaled_shards(up, g, factors["up"])
        shards = [torch.cat([a, b], dim=0) for a, b in zip(gates, ups, strict=True)]  # each [2F/G, ...]
    else:
        shards = scaled_shards(fc1, g, factors["up"])
    return torch.stack([shards[j % g] for j in range(n)])  # expert j ← shard j mod G


def _shared_fc1(fc1: torch.Tensor, s: int, g: int, gated: bool) -> torch.Tensor:
    """Dense fc1 weight [F1, h] or bias [F1] → the shared MLP's [S·F1/G, ...]: shards j mod G for j < S, unscaled;
    SwiGLU keeps the [gate; up] layout over the whole shared width."""
    halves = fc1.chunk(2, dim=0) if gated else (fc1,)
    return torch.cat([torch.cat([shard_rows(part, g, j % g) for j in range(s)]) for part in halves])


def upcycle_mlp(
    dense: dict[str, torch.Tensor], prefix: str, cfg: GPTConfig, moe: MoEConfig, router: torch.Tensor,
    factors: dict[str, float], *, weight_scaling: bool = True,
) -> dict[str, torch.Tensor]:
    """The MoE tensors of one layer from the dense ``{prefix}fc1.*``/``{prefix}fc2.*`` (``router``: [N, h]);
    ``weight_scaling`` only decides the shared/routed split (``shared_split``)."""
    f, h, g, n, s = cfg.ffn_hidden, cfg.hidden, moe.granularity, moe.num_experts, moe.shared_experts
    f1 = 2 * f if cfg.activation == "swiglu" else f
    routed_mult, shared_mult = shared_split(moe, weight_scaling)
    fc1 = _get(dense, f"{prefix}fc1.weight", (f1, h))
    fc2 = _get(dense, f"{prefix}fc2.weight", (h, f))
    w1 = _fc1_experts(fc1, n, g, factors)  # [N, F1/G, h]
    down = scaled_shards(fc2, g, factors["down"] * routed_mult, cols=True)  # G × [h, F/G]
    out = {
        f"{prefix}router.weight": router,
        f"{prefix}experts.w1": w1,
        f"{prefix}experts.w2": torch.stack([down[j % g] for j in range(n)]),  # [N, h, F/G]
    }
    if s:
        shared_down = torch.cat([shard_cols(fc2, g, j % g) for j in range(s)], dim=1)  # [h, S·F/G]
        out[f"{prefix}shared_experts.fc1.weight"] = _shared_fc1(fc1, s, g, cfg.activation == "swiglu")
        out[f"{prefix}shared_experts.fc2.weight"] = shared_down.float() * shared_mult
    if cfg.bias:
        b1 = _get(dense, f"{prefix}fc1.bias", (f1,))
        out[f"{prefix}experts.b1"] = _fc1_experts(b1, n, g, factors)
        out[f"{prefix}experts.b2"] = _get(dense, f"{prefix}fc2.bias", (h,)).expand(n, h)  # replicated, unscaled
        if s:
            out[f"{prefix}shared_experts.fc1.bias"] = _shared_fc1(b1, s, g, cfg.activation == "swiglu")
            out[f"{prefix}shared_experts.fc2.bias"] = torch.zeros(h)  # the routed experts carry the dense bias
    dtype = fc1.dtype
    out = {k: v.to(dtype).contiguous() for k, v in out.items()}
    if moe.expert_bias:
        out[f"{prefix}router.expert_bias"] = torch.zeros(n)  # fp32 whatever the weights' dtype
    return out


def upcycle_state_dict(
    dense: dict[str, torch.Tensor],
    cfg: GPTConfig,
    moe: MoEConfig,
    *,
    weight_scaling: bool = True,
    glu_scaling: GluScaling = "paper",
    router_init_std: float = 0.02,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The MoE GPT's state dict from the dense GPT's: MLPs upcycled, everything else copied."""
    check_moe_shape(cfg.ffn_hidden, moe)
    factors = weight_factors(moe, cfg.activation, weight_scaling=weight_scaling, glu_scaling=glu_scaling)
    log.info("upcycling to %s (%d experts, %s): activation scale %.4g, weight factors %s",
             moe.name(), moe.num_experts, moe.router_order, activation_scale(moe),
             ", ".join(f"{k} ×{v:.4g}" for k, v in factors.items()))
    out = {k: v for k, v in dense.items() if ".mlp." not in k}
    for layer in range(cfg.n_layers):
        prefix = f"layers.{layer}.mlp."
        if not moe.is_moe_layer(layer):  # moe.moe_every > 1: this layer stays dense, draws no router
            out.update({k: v for k, v in dense.items() if k.startswith(prefix)})
            continue
        router = virtual_group_router(moe, cfg.hidden, router_init_std, generator)
        out.update(upcycle_mlp(dense, prefix, cfg, moe, router, factors, weight_scaling=weight_scaling))
    leftover = [k for k in dense if ".mlp." in k and not k.rsplit(".mlp.", 1)[1].startswith(("fc1.", "fc2."))]
    if leftover:
        raise ValueError(f"dense state dict has MLP keys upcycling does not know: {leftover[:5]}")
    return out
