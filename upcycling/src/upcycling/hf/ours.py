"""Our GPT (``upcycling.model``) to and from Hugging Face layouts: Llama (dense), Mixtral and Qwen2-MoE (MoE).

Which of our models have an HF twin: SwiGLU MLPs with RMSNorm (Llama's block). Dense models may have
biases (Llama ``attention_bias`` + ``mlp_bias``); MoE models may not (HF experts have none). The router order
picks the MoE family: topK-then-softmax ↔ Mixtral, softmax-then-topK ↔ Qwen2-MoE with ``norm_topk_prob=False``
and a zero-width shared expert. Anything else is refused with the field to change.

Key map (per layer L; our SwiGLU ``fc1`` is [gate; up] stacked along rows, so gate/up are its two halves):

- ``embed.weight`` ↔ ``model.embed_tokens.weight``; ``final_norm.weight`` ↔ ``model.norm.weight``;
  ``lm_head.weight`` ↔ ``lm_head.weight`` (absent when tied)
- ``layers.L.attn_norm`` / ``mlp_norm`` ↔ ``model.layers.L.input_layernorm`` / ``post_attention_layernorm``
- ``layers.L.attn.{q,k,v,o}.{weight,bias}`` ↔ ``model.layers.L.self_attn.{q,k,v,o}_proj.{weight,bias}``
- dense ``layers.L.mlp.fc1`` [2F,h] ↔ ``mlp.gate_proj`` (rows :F) + ``mlp.up_proj`` (rows F:);
  ``fc2`` [h,F] ↔ ``mlp.down_proj``
- ``layers.L.mlp.router.weight`` [N,h] ↔ Mixtral ``block_sparse_moe.gate.weight`` / Qwen2-MoE ``mlp.gate.weight``
- ``layers.L.mlp.experts.w1[j]`` [2F_e,h] ↔ expert j's gate + up; ``w2[j]`` [h,F_e] ↔ its down
  (Mixtral names them ``w1``, ``w3``, ``w2``)

HF configs do not store G for Mixtral (only the expert width), so ``save_hf`` also writes our configs to
``upcycling.json``; ``load_hf`` prefers that file and otherwise derives G (Qwen2-MoE: dense width over expert
width; Mixtral: 1).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch

from ninerepro.train.config import from_dict
from upcycling.config import GPTConfig, MoEConfig
from upcycling.hf.convert import staging_dir
from upcycling.hf.layouts import LAYOUT_SPECS, Layout, hf_aux_loss_coef, paper_alpha
from upcycling.hf.nemotron import (
    is_nemotron_model,
    nemotron_config,
    nemotron_model_config,
    nemotron_to_ours,
    ours_to_nemotron,
)
from upcycling.hf.safetensors_io import SafetensorsCheckpoint, ShardedWriter, parse_size

_ATTN = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj"}
_NORMS = {"attn_norm": "input_layernorm", "mlp_norm": "post_attention_layernorm"}


def _layout_for(moe: MoEConfig | None) -> Layout | None:
    if moe is None:
        return None
    return LAYOUT_SPECS["mixtral" if moe.router_order == "topk_softmax" else "qwen2_moe"]


def check_hf_compatible(cfg: GPTConfig, moe: MoEConfig | None) -> None:
    """Refuse models no HF family reproduces, naming the config field."""
    if moe is None and is_nemotron_model(cfg):
        return
    if cfg.activation != "swiglu":
        raise ValueError(f"model.activation={cfg.activation!r} has no HF Llama-family twin; use swiglu (dense "
                         "squared_relu/gelu models with layernorm or layernorm1p export as Nemotron)")
    if cfg.rotary_percent != 1.0:
        raise ValueError(f"model.rotary_percent={cfg.rotary_percent}: Llama-family models rotate every head "
                         "dimension; partial RoPE exports only as Nemotron (dense squared_relu + layernorm1p)")
    if cfg.norm != "rmsnorm":
        raise ValueError(f"model.norm={cfg.norm!r} has no HF Llama-family twin; use rmsnorm")
    if moe is not None and cfg.bias:
        raise ValueError("model.bias=true with an MoE: HF Mixtral/Qwen2-MoE experts have no biases")
    if moe is not None and moe.beyond_paper():
        raise ValueError(f"{', '.join(moe.beyond_paper())}: the HF export writes the paper's layout only (every "
                         "layer MoE, routed experts, no expert bias); keep this model in our checkpoint format")


def hf_config(cfg: GPTConfig, moe: MoEConfig | None) -> dict:
    """The HF config.json dict of our model."""
    check_hf_compatible(cfg, moe)
    if moe is None and is_nemotron_model(cfg):
        return nemotron_config(cfg)
    out = {"vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden, "num_hidden_layers": cfg.n_layers,
           "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim,
           "hidden_act": "silu", "max_position_embeddings": cfg.max_seq_len, "initializer_range": cfg.init_std,
           "rms_norm_eps": cfg.norm_eps, "tie_word_embeddings": cfg.tied_embeddings, "attention_dropout": 0.0,
           "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_theta}, "dtype": "float32"}
    if moe is None:
        return {**out, "model_type": "llama", "architectures": ["LlamaForCausalLM"], "intermediate_size":
                cfg.ffn_hidden, "attention_bias": cfg.bias, "mlp_bias": cfg.bias}
    f_e = moe.expert_ffn_hidden(cfg.ffn_hidden)
    out.update(num_experts_per_tok=moe.topk, output_router_logits=True,
               router_aux_loss_coef=hf_aux_loss_coef(moe.aux_loss_coeff, cfg.n_layers, moe.topk))
    if moe.router_order == "topk_softmax":
        return {**out, "model_type": "mixtral", "architectures": ["MixtralForCausalLM"], "intermediate_size": f_e,
                "num_local_experts": moe.num_experts, "router_jitter_noise": 0.0, "sliding_window": None}
    return {**out, "model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"],
            "intermediate_size": cfg.ffn_hidden, "moe_intermediate_size": f_e, "num_experts": moe.num_experts,
            "shared_expert_intermediate_size": 0, "norm_topk_prob": False, "decoder_sparse_step": 1,
            "mlp_only_layers": [], "qkv_bias": False, "use_sliding_window": False,
            "layer_types": ["full_attention"] * cfg.n_layers}


def ours_to_hf(sd: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, torch.Tensor]:
    """Our state dict → HF tensor names and per-expert 2-D tensors."""
    check_hf_compatible(cfg, moe)
    if moe is None and is_nemotron_model(cfg):
        return ours_to_nemotron(sd, cfg)
    layout = _layout_for(moe)
    out = {"model.embed_tokens.weight": sd["embed.weight"], "model.norm.weight": sd["final_norm.weight"]}
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = sd["lm_head.weight"]
    for L in range(cfg.n_layers):
        ours, hf = f"layers.{L}.", f"model.layers.{L}."
        for a, b in _NORMS.items():
            out[f"{hf}{b}.weight"] = sd[f"{ours}{a}.weight"]
        for a, b in _ATTN.items():
            for kind in ("weight", "bias") if cfg.bias else ("weight",):
                out[f"{hf}self_attn.{b}.{kind}"] = sd[f"{ours}attn.{a}.{kind}"]
        if layout is None:
            out.update(_dense_mlp_to_hf(sd, ours, hf, cfg.bias))
        else:
            out.update(_moe_mlp_to_hf(sd, L, ours, layout, cfg.hidden))
    return {k: v.contiguous() for k, v in out.items()}


def _dense_mlp_to_hf(sd: dict, ours: str, hf: str, bias: bool) -> dict[str, torch.Tensor]:
    out = {}
    for kind in ("weight", "bias") if bias else ("weight",):
        gate, up = sd[f"{ours}mlp.fc1.{kind}"].chunk(2, dim=0)  # [F, h] each (or [F])
        out.update({f"{hf}mlp.gate_proj.{kind}": gate, f"{hf}mlp.up_proj.{kind}": up,
                    f"{hf}mlp.down_proj.{kind}": sd[f"{ours}mlp.fc2.{kind}"]})
    return out


def _moe_mlp_to_hf(sd: dict, layer: int, ours: str, layout: Layout, hidden: int) -> dict[str, torch.Tensor]:
    w1, w2 = sd[f"{ours}mlp.experts.w1"], sd[f"{ours}mlp.experts.w2"]  # [N, 2F_e, h], [N, h, F_e]
    out = {layout.router_key(layer): sd[f"{ours}mlp.router.weight"]}
    for j in range(w1.shape[0]):
        gate, up = w1[j].chunk(2, dim=0)  # [F_e, h] each
        out[layout.expert_key(layer, j, "gate_proj")] = gate.clone()
        out[layout.expert_key(layer, j, "up_proj")] = up.clone()
        out[layout.expert_key(layer, j, "down_proj")] = w2[j].clone()
    if layout.name == "qwen2_moe":
        p, dt = f"model.layers.{layer}.mlp.", w1.dtype
        out[p + "shared_expert_gate.weight"] = torch.zeros(1, hidden, dtype=dt)  # the width-0 expert is not written
    return out


def configs_from_hf(hf: dict, granularity: int | None = None) -> tuple[GPTConfig, MoEConfig | None]:
    """Our configs for an HF Llama / Mixtral / Qwen2-MoE config.json dict (refuses what we cannot build)."""
    family = hf.get("model_type")
    if family == "nemotron":
        return nemotron_model_config(hf), None
    if family not in ("llama", "mixtral", "qwen2_moe"):
        raise ValueError(f"model_type {family!r}: our GPT loads llama, nemotron, mixtral or qwen2_moe checkpoints")
    rope = hf.get("rope_parameters") or {"rope_type": "default", "rope_theta": hf.get("rope_theta", 10000.0)}
    if rope.get("rope_type", "default") != "default":
        raise ValueError(f"rope_type {rope['rope_type']!r}: our GPT implements plain RoPE only")
    heads = hf["num_attention_heads"]
    if hf.get("head_dim") not in (None, hf["hidden_size"] // heads):
        raise ValueError(f"head_dim={hf['head_dim']} ≠ hidden_size/num_attention_heads; our GPT ties them")
    if hf.get("hidden_act", "silu") != "silu" or hf.get("sliding_window") or hf.get("use_sliding_window"):
        raise ValueError("only silu (SwiGLU) MLPs and full attention map to our GPT")
    if hf.get("shared_expert_intermediate_size") or hf.get("qkv_bias") or hf.get("mlp_only_layers"):
        raise ValueError("Qwen2-MoE shared experts, q/k/v-only biases and dense layers have no twin in our GPT")
    moe = None
    if family != "llama":
        f_e = hf["intermediate_size"] if family == "mixtral" else hf["moe_intermediate_size"]
        g = granularity or (1 if family == "mixtral" else hf["intermediate_size"] // f_e)
        n = hf["num_local_experts"] if family == "mixtral" else hf["num_experts"]
        order = "topk_softmax" if family == "mixtral" or hf.get("norm_topk_prob") else "softmax_topk"
        moe = MoEConfig(num_experts=n, topk=hf["num_experts_per_tok"], granularity=g, router_order=order,
                        aux_loss_coeff=paper_alpha(hf.get("router_aux_loss_coef", 1e-2), hf["num_hidden_layers"],
                                                   hf["num_experts_per_tok"]))
        ffn = f_e * g
    else:
        ffn = hf["intermediate_size"]
    cfg = GPTConfig(vocab_size=hf["vocab_size"], n_layers=hf["num_hidden_layers"], hidden=hf["hidden_size"],
                    n_heads=heads, n_kv_heads=hf.get("num_key_value_heads") or heads, ffn_hidden=ffn,
                    activation="swiglu", norm="rmsnorm", norm_eps=hf.get("rms_norm_eps", 1e-6),
                    bias=bool(hf.get("attention_bias") and hf.get("mlp_bias")),
                    tied_embeddings=bool(hf.get("tie_word_embeddings", False)), rope_theta=float(rope["rope_theta"]),
                    max_seq_len=hf.get("max_position_embeddings", 2048), init_std=hf.get("initializer_range", 0.02))
    if hf.get("attention_bias") != hf.get("mlp_bias") and family == "llama":
        raise ValueError("attention_bias and mlp_bias differ; our GPT has one bias switch for every linear layer")
    return cfg, moe


def hf_to_ours(sd: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, torch.Tensor]:
    """HF tensors → our state dict; the exact inverse of ``ours_to_hf`` (a missing key raises KeyError)."""
    if moe is None and is_nemotron_model(cfg):
        return nemotron_to_ours(sd, cfg)
    inverse = {v: k for k, v in _ATTN.items()}
    layout = _layout_for(moe)
    out = {"embed.weight": sd["model.embed_tokens.weight"], "final_norm.weight": sd["model.norm.weight"]}
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = sd["lm_head.weight"]
    for L in range(cfg.n_layers):
        ours, hf = f"layers.{L}.", f"model.layers.{L}."
        for a, b in _NORMS.items():
            out[f"{ours}{a}.weight"] = sd[f"{hf}{b}.weight"]
        for b, a in inverse.items():
            for kind in ("weight", "bias") if cfg.bias else ("weight",):
                out[f"{ours}attn.{a}.{kind}"] = sd[f"{hf}self_attn.{b}.{kind}"]
        if layout is None:
            for kind in ("weight", "bias") if cfg.bias else ("weight",):
                gate, up = sd[f"{hf}mlp.gate_proj.{kind}"], sd[f"{hf}mlp.up_proj.{kind}"]
                out[f"{ours}mlp.fc1.{kind}"] = torch.cat([gate, up], dim=0)  # [2F, h]
                out[f"{ours}mlp.fc2.{kind}"] = sd[f"{hf}mlp.down_proj.{kind}"]
            continue
        out.update(_moe_mlp_to_ours(sd, L, ours, layout, moe.num_experts))  # type: ignore[union-attr]
    return out


def _moe_mlp_to_ours(sd: dict, layer: int, ours: str, layout: Layout, n: int) -> dict[str, torch.Tensor]:
    def expert(j: int, part: str) -> torch.Tensor:
        return sd[layout.expert_key(layer, j, part)]

    return {f"{ours}mlp.router.weight": sd[layout.router_key(layer)],
            f"{ours}mlp.experts.w1": torch.stack([torch.cat([expert(j, "gate_proj"), expert(j, "up_proj")])
                                                 for j in range(n)]),  # [N, 2F_e, h]
            f"{ours}mlp.experts.w2": torch.stack([expert(j, "down_proj") for j in range(n)])}  # [N, h, F_e]


def save_hf(folder: str | os.PathLike, sd: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None, *,
            max_shard_size: str | int = "5GB", overwrite: bool = False) -> Path:
    """Write our model as an HF folder (config.json, safetensors shards, upcycling.json), atomically."""
    folder = Path(folder)
    config, tensors = hf_config(cfg, moe), ours_to_hf(sd, cfg, moe)
    with staging_dir(folder, overwrite) as tmp:
        writer = ShardedWriter(tmp, parse_size(max_shard_size))
        for key, t in tensors.items():
            writer.add(key, t)
        writer.finish()
        (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        ours = {"model": dataclasses.asdict(cfg), "moe": dataclasses.asdict(moe) if moe else None}
        (tmp / "upcycling.json").write_text(json.dumps({"ours": ours}, indent=2) + "\n", encoding="utf-8")
    return folder


def load_hf(folder: str | os.PathLike) -> tuple[dict[str, torch.Tensor], GPTConfig, MoEConfig | None]:
    """Read an HF folder (ours or any compatible Llama/Nemotron/Mixtral/Qwen2-MoE) into our state dict and configs.

    A Nemotron folder always comes back with ``norm=layernorm1p`` (its stored form), even one we exported from
    a plain-``layernorm`` model."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder / 'config.json'}: missing; pass a Hugging Face model folder")
    hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    meta_path = folder / "upcycling.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if "ours" in meta and hf.get("model_type") != "nemotron":
        cfg = from_dict(GPTConfig, meta["ours"]["model"], prefix="model.")
        moe = from_dict(MoEConfig, meta["ours"]["moe"], prefix="moe.") if meta["ours"]["moe"] else None
    else:
        cfg, moe = configs_from_hf(hf, granularity=meta.get("granularity"))
    tensors = dict(SafetensorsCheckpoint(folder).iter_tensors())
    return hf_to_ours(tensors, cfg, moe), cfg, moe
