"""Our GPT's state dict ↔ Megatron-Core ``GPTModel``'s, dense and MoE, with Megatron's own key names.

Why a rename is enough: our model keeps Megatron's weight layouts (``fc1`` [F1, h] with SwiGLU's gate rows
first, ``fc2`` [h, F], experts [N, F1, h] / [N, h, F_e], the router [N, h], LayerNorm1P's stored gain − 1),
so only two things move: the key names, and attention, which Megatron fuses into one ``linear_qkv`` whose
rows are grouped by key/value head: for each of the ``num_query_groups`` groups, that group's
``n_heads / n_kv_heads`` query heads, then its key head, then its value head (``Attention
.get_query_key_value_tensors`` in megatron/core/transformer/attention.py).

Variants Megatron writes (all read; ``naming`` and ``experts`` choose what is written):
- ``naming="local"`` (Megatron-Core's ``get_gpt_layer_local_spec``): separate ``input_layernorm`` /
  ``pre_mlp_layernorm`` modules; ``naming="te"`` (Transformer Engine spec, what GPU training writes): the
  norm before attention is fused into ``linear_qkv.layer_norm_weight``/``_bias``, and the one before a dense
  MLP into ``linear_fc1.layer_norm_weight``/``_bias`` (an MoE layer keeps ``pre_mlp_layernorm``).
- experts ``"sequential"`` (``SequentialMLP``: ``experts.local_experts.{j}.linear_fc1.weight``),
  ``"grouped"`` (``TEGroupedMLP``: ``experts.linear_fc1.weight{j}``) or ``"legacy_grouped"`` (``GroupedMLP``:
  ``experts.weight1`` [h, N·F1] and ``experts.weight2`` [N·F_e, h], the raw memory of [N, h, F1] / [N, F_e, h]).
- Transformer Engine's ``*._extra_state`` entries (fp8 metadata, None without fp8) are skipped on read.
"""

from __future__ import annotations

import torch

from upcycling.activations import fc1_rows
from upcycling.config import GPTConfig, MoEConfig

NAMINGS = ("local", "te")
EXPERT_LAYOUTS = ("sequential", "grouped", "legacy_grouped")


def fuse_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cfg: GPTConfig) -> torch.Tensor:
    """Our q [H·d, ...], k, v [Hkv·d, ...] (weights or biases) → Megatron's ``linear_qkv`` [(H + 2·Hkv)·d, ...]."""
    g, rep, d = cfg.n_kv_heads, cfg.n_heads // cfg.n_kv_heads, cfg.head_dim
    rest = q.shape[1:]
    parts = (q.reshape(g, rep * d, *rest), k.reshape(g, d, *rest), v.reshape(g, d, *rest))
    return torch.cat(parts, dim=1).reshape(-1, *rest)


def split_qkv(qkv: torch.Tensor, cfg: GPTConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of ``fuse_qkv``."""
    g, rep, d = cfg.n_kv_heads, cfg.n_heads // cfg.n_kv_heads, cfg.head_dim
    rest = qkv.shape[1:]
    grouped = qkv.reshape(g, (rep + 2) * d, *rest)
    q, k, v = grouped.split([rep * d, d, d], dim=1)
    return q.reshape(-1, *rest), k.reshape(-1, *rest), v.reshape(-1, *rest)


def _norm_keys(prefix: str) -> tuple[str, str]:
    return f"{prefix}.weight", f"{prefix}.bias"


def to_megatron(state: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None, *, naming: str = "local",
                experts: str = "sequential") -> dict[str, torch.Tensor]:
    """Our dense or MoE GPT state dict → a Megatron-Core ``GPTModel`` state dict (tensors shared, not copied,
    except the fused qkv and the legacy grouped experts)."""
    if naming not in NAMINGS or experts not in EXPERT_LAYOUTS:
        raise ValueError(f"naming must be one of {NAMINGS} and experts one of {EXPERT_LAYOUTS}")
    if moe is not None and moe.beyond_paper():
        raise ValueError(f"{', '.join(moe.beyond_paper())}: `upcycle to-megatron` writes the paper's layout only "
                         "(every layer MoE, routed experts, no expert bias); keep this model in our checkpoint format")
    out: dict[str, torch.Tensor] = {"embedding.word_embeddings.weight": state["embed.weight"]}
    for i in range(cfg.n_layers):
        ours, meg = f"layers.{i}.", f"decoder.layers.{i}."
        attn_norm = f"{meg}self_attention.linear_qkv.layer_norm_" if naming == "te" else f"{meg}input_layernorm."
        _put_norm(out, state, f"{ours}attn_norm", attn_norm, cfg)
        w = fuse_qkv(*(state[f"{ours}attn.{p}.weight"] for p in "qkv"), cfg)
        out[f"{meg}self_attention.linear_qkv.weight"] = w
        if f"{ours}attn.q.bias" in state:
            out[f"{meg}self_attention.linear_qkv.bias"] = fuse_qkv(*(state[f"{ours}attn.{p}.bias"] for p in "qkv"),
                                                                   cfg)
        _copy(out, state, f"{ours}attn.o", f"{meg}self_attention.linear_proj")
        if moe is None:
            mlp_norm = f"{meg}mlp.linear_fc1.layer_norm_" if naming == "te" else f"{meg}pre_mlp_layernorm."
            _put_norm(out, state, f"{ours}mlp_norm", mlp_norm, cfg)
            _copy(out, state, f"{ours}mlp.fc1", f"{meg}mlp.linear_fc1")
            _copy(out, state, f"{ours}mlp.fc2", f"{meg}mlp.linear_fc2")
        else:
            _put_norm(out, state, f"{ours}mlp_norm", f"{meg}pre_mlp_layernorm.", cfg)
            out[f"{meg}mlp.router.weight"] = state[f"{ours}mlp.router.weight"]
            _put_experts(out, state, f"{ours}mlp.experts.", f"{meg}mlp.experts.", experts)
    _put_norm(out, state, "final_norm", "decoder.final_layernorm.", cfg)
    if not cfg.tied_embeddings:
        out["output_layer.weight"] = state["lm_head.weight"]
    return out


def from_megatron(state: dict[str, object], cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, torch.Tensor]:
    """A Megatron-Core ``GPTModel`` state dict (any naming and expert layout above) → ours for ``cfg``/``moe``.

    Raises ValueError naming the first key that is missing or left over, so a checkpoint of another shape
    (or a layer pattern we do not build, e.g. ``--moe-layer-freq`` > 1) is refused rather than half-loaded."""
    src = {k: v for k, v in state.items() if not k.endswith("_extra_state")}
    used: set[str] = set()

    def take(key: str) -> torch.Tensor:
        if key not in src:
            raise ValueError(f"Megatron state dict has no {key!r} (is it a checkpoint of this model config?)")
        used.add(key)
        return src[key]  # type: ignore[return-value]

    def take_norm(candidates: list[str], ours: str) -> None:
        for prefix in candidates:
            if f"{prefix}weight" in src:
                out[f"{ours}.weight"] = take(f"{prefix}weight")
                if f"{prefix}bias" in src:
                    bias = take(f"{prefix}bias")
                    if cfg.norm == "rmsnorm" or (cfg.norm == "layernorm" and not cfg.bias):
                        if torch.count_nonzero(bias):
                            raise ValueError(f"{prefix}bias is not zero but model.norm={cfg.norm} with "
                                             f"model.bias={cfg.bias} has no norm bias; set model.bias=true")
                    else:
                        out[f"{ours}.bias"] = bias
                return
        raise ValueError(f"Megatron state dict has none of {[c + 'weight' for c in candidates]}")

    out: dict[str, torch.Tensor] = {"embed.weight": take("embedding.word_embeddings.weight")}
    for i in range(cfg.n_layers):
        ours, meg = f"layers.{i}.", f"decoder.layers.{i}."
        take_norm([f"{meg}input_layernorm.", f"{meg}self_attention.linear_qkv.layer_norm_"], f"{ours}attn_norm")
        q, k, v = split_qkv(take(f"{meg}self_attention.linear_qkv.weight"), cfg)
        out.update({f"{ours}attn.q.weight": q, f"{ours}attn.k.weight": k, f"{ours}attn.v.weight": v})
        if cfg.bias:
            q, k, v = split_qkv(take(f"{meg}self_attention.linear_qkv.bias"), cfg)
            out.update({f"{ours}attn.q.bias": q, f"{ours}attn.k.bias": k, f"{ours}attn.v.bias": v})
        _take_linear(out, take, f"{meg}self_attention.linear_proj", f"{ours}attn.o", cfg.bias)
        take_norm([f"{meg}pre_mlp_layernorm.", f"{meg}mlp.linear_fc1.layer_norm_"], f"{ours}mlp_norm")
        if moe is None:
            _take_linear(out, take, f"{meg}mlp.linear_fc1", f"{ours}mlp.fc1", cfg.bias)
            _take_linear(out, take, f"{meg}mlp.linear_fc2", f"{ours}mlp.fc2", cfg.bias)
        else:
            out[f"{ours}mlp.router.weight"] = take(f"{meg}mlp.router.weight")
            _take_experts(out, src, take, f"{meg}mlp.experts.", f"{ours}mlp.experts.", cfg, moe)
    take_norm(["decoder.final_layernorm."], "final_norm")
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = take("output_layer.weight")
    left = sorted(set(src) - used)
    if left:
        raise ValueError(f"Megatron state dict has {len(left)} keys this config does not use, e.g. {left[0]!r} "
                         f"(moe={'dense' if moe is None else moe.name()}; check the model/moe sections)")
    return out


def _copy(out: dict, state: dict, ours: str, meg: str) -> None:
    out[f"{meg}.weight"] = state[f"{ours}.weight"]
    if f"{ours}.bias" in state:
        out[f"{meg}.bias"] = state[f"{ours}.bias"]


def _put_norm(out: dict, state: dict, ours: str, meg_prefix: str, cfg: GPTConfig) -> None:
    """Megatron's LayerNorm always has a bias (zeros where our bias-free LayerNorm has none); RMSNorm has none."""
    w = state[f"{ours}.weight"]
    out[f"{meg_prefix}weight"] = w
    if f"{ours}.bias" in state:
        out[f"{meg_prefix}bias"] = state[f"{ours}.bias"]
    elif cfg.norm != "rmsnorm":
        out[f"{meg_prefix}bias"] = torch.zeros_like(w)


def _take_linear(out: dict, take, meg: str, ours: str, bias: bool) -> None:
    out[f"{ours}.weight"] = take(f"{meg}.weight")
    if bias:
        out[f"{ours}.bias"] = take(f"{meg}.bias")


def _put_experts(out: dict, state: dict, ours: str, meg: str, layout: str) -> None:
    w1, w2 = state[f"{ours}w1"], state[f"{ours}w2"]  # [N, F1, h], [N, h, F_e]
    b1, b2 = state.get(f"{ours}b1"), state.get(f"{ours}b2")
    n = w1.shape[0]
    if layout == "legacy_grouped":
        if b1 is not None:
            raise ValueError("Megatron's legacy GroupedMLP has no expert biases; write experts='sequential'")
        out[f"{meg}weight1"] = w1.transpose(1, 2).contiguous().view(w1.shape[2], -1)  # memory of [N, h, F1]
        out[f"{meg}weight2"] = w2.transpose(1, 2).contiguous().view(-1, w2.shape[1])  # memory of [N, F_e, h]
        return
    for j in range(n):
        if layout == "sequential":
            names = {f"{meg}local_experts.{j}.linear_fc1.weight": w1[j],
                     f"{meg}local_experts.{j}.linear_fc2.weight": w2[j]}
            if b1 is not None:
                names[f"{meg}local_experts.{j}.linear_fc1.bias"] = b1[j]
                names[f"{meg}local_experts.{j}.linear_fc2.bias"] = b2[j]
        else:
            names = {f"{meg}linear_fc1.weight{j}": w1[j], f"{meg}linear_fc2.weight{j}": w2[j]}
            if b1 is not None:
                names[f"{meg}linear_fc1.bias{j}"] = b1[j]
                names[f"{meg}linear_fc2.bias{j}"] = b2[j]
        out.update({k: v.clone() for k, v in names.items()})


def _take_experts(out: dict, src: dict, take, meg: str, ours: str, cfg: GPTConfig, moe: MoEConfig) -> None:
    n, h = moe.num_experts, cfg.hidden
    fe = moe.expert_ffn_hidden(cfg.ffn_hidden)
    f1 = fc1_rows(cfg.activation, fe)
    if f"{meg}weight1" in src:
        out[f"{ours}w1"] = take(f"{meg}weight1").contiguous().view(n, h, f1).transpose(1, 2).contiguous()
        out[f"{ours}w2"] = take(f"{meg}weight2").contiguous().view(n, fe, h).transpose(1, 2).contiguous()
        return
    if f"{meg}local_experts.0.linear_fc1.weight" in src:
        name = lambda j, fc, p: f"{meg}local_experts.{j}.linear_fc{fc}.{p}"  # noqa: E731
    else:
        name = lambda j, fc, p: f"{meg}linear_fc{fc}.{p}{j}"  # noqa: E731
    out[f"{ours}w1"] = torch.stack([take(name(j, 1, "weight")) for j in range(n)])
    out[f"{ours}w2"] = torch.stack([take(name(j, 2, "weight")) for j in range(n)])
    if cfg.bias:
        out[f"{ours}b1"] = torch.stack([take(name(j, 1, "bias")) for j in range(n)])
        out[f"{ours}b2"] = torch.stack([take(name(j, 2, "bias")) for j in range(n)])
