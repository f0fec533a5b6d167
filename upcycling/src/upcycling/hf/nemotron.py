"""Our dense squared-ReLU / GELU LayerNorm GPT to and from Hugging Face ``NemotronForCausalLM`` (Nemotron-4).

The paper's models are Nemotron: squared-ReLU (``relu2``) MLP without a gate, LayerNorm1P (stored weight =
gain − 1, with bias) before attention, before the MLP and at the end, partial RoPE (``partial_rotary_factor``
= our ``rotary_percent``, 0.5 for Nemotron-4), untied head, optional linear biases (``attention_bias`` and
``mlp_bias``; our one ``bias`` switch sets both). Key map per layer L (HF → ours):

- ``model.layers.L.input_layernorm.{weight,bias}`` → ``layers.L.attn_norm.*``, ``post_attention_layernorm`` →
  ``mlp_norm``, ``model.norm`` → ``final_norm``; attention as for Llama (``self_attn.{q,k,v,o}_proj``)
- ``mlp.up_proj`` [F, h] → ``mlp.fc1``; ``mlp.down_proj`` [h, F] → ``mlp.fc2``

Export accepts ``norm=layernorm1p`` as is, and plain ``layernorm`` by storing weight − 1 (and a zero bias when
the model has none); import always gives ``layernorm1p``. The MoE versions have no HF twin (no HF MoE family
has LayerNorm1P and relu2 experts), so a Nemotron source is upcycled into our own checkpoint format:
``upcycle upcycle --dense NEMOTRON_FOLDER``.
"""

from __future__ import annotations

import torch

from upcycling.config import GPTConfig

ACTIVATIONS = {"squared_relu": "relu2", "gelu": "gelu"}
"""our activation → HF ``hidden_act`` (both element-wise on a non-gated MLP)"""
_ATTN = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj"}
_NORMS = {"attn_norm": "input_layernorm", "mlp_norm": "post_attention_layernorm"}


def is_nemotron_model(cfg: GPTConfig) -> bool:
    """Whether our dense model's HF twin is Nemotron (non-gated MLP, LayerNorm)."""
    return cfg.activation in ACTIVATIONS and cfg.norm in ("layernorm", "layernorm1p")


def nemotron_config(cfg: GPTConfig) -> dict:
    """HF ``config.json`` of our dense model as a NemotronForCausalLM."""
    if not is_nemotron_model(cfg):
        raise ValueError(f"model.activation={cfg.activation!r} with model.norm={cfg.norm!r} has no Nemotron twin; "
                         "Nemotron needs squared_relu or gelu with layernorm or layernorm1p")
    return {"model_type": "nemotron", "architectures": ["NemotronForCausalLM"], "vocab_size": cfg.vocab_size,
            "hidden_size": cfg.hidden, "intermediate_size": cfg.ffn_hidden, "num_hidden_layers": cfg.n_layers,
            "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim,
            "hidden_act": ACTIVATIONS[cfg.activation], "max_position_embeddings": cfg.max_seq_len,
            "initializer_range": cfg.init_std, "norm_eps": cfg.norm_eps, "tie_word_embeddings": cfg.tied_embeddings,
            "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_theta,
                                "partial_rotary_factor": cfg.rotary_percent},
            "attention_bias": cfg.bias, "mlp_bias": cfg.bias, "attention_dropout": 0.0, "dtype": "float32"}


def _norm_to_hf(sd: dict, ours: str, hf: str, cfg: GPTConfig) -> dict[str, torch.Tensor]:
    w = sd[f"{ours}.weight"]
    if cfg.norm == "layernorm1p":
        return {f"{hf}.weight": w, f"{hf}.bias": sd[f"{ours}.bias"]}
    bias = sd[f"{ours}.bias"] if cfg.bias else torch.zeros_like(w)
    return {f"{hf}.weight": w - 1.0, f"{hf}.bias": bias}


def ours_to_nemotron(sd: dict[str, torch.Tensor], cfg: GPTConfig) -> dict[str, torch.Tensor]:
    """Our dense state dict → Nemotron tensor names."""
    nemotron_config(cfg)  # refuses what has no twin
    out = {"model.embed_tokens.weight": sd["embed.weight"], **_norm_to_hf(sd, "final_norm", "model.norm", cfg)}
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = sd["lm_head.weight"]
    kinds = ("weight", "bias") if cfg.bias else ("weight",)
    for L in range(cfg.n_layers):
        ours, hf = f"layers.{L}.", f"model.layers.{L}."
        for a, b in _NORMS.items():
            out.update(_norm_to_hf(sd, f"{ours}{a}", f"{hf}{b}", cfg))
        for a, b in _ATTN.items():
            for kind in kinds:
                out[f"{hf}self_attn.{b}.{kind}"] = sd[f"{ours}attn.{a}.{kind}"]
        for kind in kinds:
            out[f"{hf}mlp.up_proj.{kind}"] = sd[f"{ours}mlp.fc1.{kind}"]
            out[f"{hf}mlp.down_proj.{kind}"] = sd[f"{ours}mlp.fc2.{kind}"]
    return {k: v.contiguous() for k, v in out.items()}


def nemotron_model_config(hf: dict) -> GPTConfig:
    """Our GPTConfig for a Nemotron ``config.json`` dict (refuses what our GPT cannot build)."""
    act = {v: k for k, v in ACTIVATIONS.items()}.get(hf.get("hidden_act", "relu2"))
    if act is None:
        raise ValueError(f"hidden_act {hf.get('hidden_act')!r}: our GPT loads Nemotron with relu2 or gelu")
    if bool(hf.get("attention_bias")) != bool(hf.get("mlp_bias")):
        raise ValueError("attention_bias and mlp_bias differ; our GPT has one bias switch for every linear layer")
    rope = hf.get("rope_parameters") or {"rope_theta": hf.get("rope_theta", 10000.0),
                                         "partial_rotary_factor": hf.get("partial_rotary_factor", 1.0)}
    if rope.get("rope_type", "default") != "default":
        raise ValueError(f"rope_type {rope['rope_type']!r}: our GPT implements plain RoPE only")
    heads = hf["num_attention_heads"]
    if hf.get("head_dim") not in (None, hf["hidden_size"] // heads):
        raise ValueError(f"head_dim={hf['head_dim']} ≠ hidden_size/num_attention_heads; our GPT ties them")
    return GPTConfig(vocab_size=hf["vocab_size"], n_layers=hf["num_hidden_layers"], hidden=hf["hidden_size"],
                     n_heads=heads, n_kv_heads=hf.get("num_key_value_heads") or heads,
                     ffn_hidden=hf["intermediate_size"], activation=act, norm="layernorm1p",
                     norm_eps=hf.get("norm_eps", 1e-5), bias=bool(hf.get("attention_bias")),
                     tied_embeddings=bool(hf.get("tie_word_embeddings", False)),
                     rope_theta=float(rope.get("rope_theta", 10000.0)),
                     rotary_percent=float(rope.get("partial_rotary_factor", 1.0)),
                     max_seq_len=hf.get("max_position_embeddings", 4096), init_std=hf.get("initializer_range", 0.02))


def nemotron_to_ours(sd: dict[str, torch.Tensor], cfg: GPTConfig) -> dict[str, torch.Tensor]:
    """Nemotron tensors → our dense state dict (``norm=layernorm1p``); a missing key raises KeyError."""
    out = {"embed.weight": sd["model.embed_tokens.weight"], "final_norm.weight": sd["model.norm.weight"],
           "final_norm.bias": sd["model.norm.bias"]}
    if not cfg.tied_embeddings:
        out["lm_head.weight"] = sd["lm_head.weight"]
    kinds = ("weight", "bias") if cfg.bias else ("weight",)
    for L in range(cfg.n_layers):
        ours, hf = f"layers.{L}.", f"model.layers.{L}."
        for a, b in _NORMS.items():
            out[f"{ours}{a}.weight"], out[f"{ours}{a}.bias"] = sd[f"{hf}{b}.weight"], sd[f"{hf}{b}.bias"]
        for a, b in _ATTN.items():
            for kind in kinds:
                out[f"{ours}attn.{a}.{kind}"] = sd[f"{hf}self_attn.{b}.{kind}"]
        for kind in kinds:
            out[f"{ours}mlp.fc1.{kind}"] = sd[f"{hf}mlp.up_proj.{kind}"]
            out[f"{ours}mlp.fc2.{kind}"] = sd[f"{hf}mlp.down_proj.{kind}"]
    return out
