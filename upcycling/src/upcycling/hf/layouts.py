"""Which Hugging Face families go in, which MoE layouts come out, and how keys and configs map.

Sources (dense, ``model_type``): ``llama``, ``mistral``, ``qwen2``. All three share the tensor names
``model.layers.L.mlp.{gate,up,down}_proj.weight`` and a gated MLP ``down(act(gate x) * up x)``; attention,
norms, embeddings and head keys are the same in every target, so they are copied unchanged.

Targets, checked against the installed ``transformers`` 5.x modelling code:

- ``mixtral`` (``MixtralForCausalLM``): router ``block_sparse_moe.gate`` [N,h] computes softmax → top-k →
  divide by the top-k sum, which equals softmax over the top-k logits (topK-then-softmax); expert width
  ``intermediate_size``; no shared expert; q/k/v/o without bias and one ``sliding_window`` for every layer
  (as Mistral). Used for topK-then-softmax from Llama/Mistral (``auto``: coarse only).
- ``qwen2_moe`` (``Qwen2MoeForCausalLM``): router ``mlp.gate`` [N,h] computes softmax → top-k, renormalised
  only if ``norm_topk_prob`` (False = softmax-then-topK); expert width ``moe_intermediate_size``; a
  ``shared_expert`` with a sigmoid ``shared_expert_gate`` is always built, so we write it with width 0 (its
  output is then exactly 0); q/k/v bias iff ``qkv_bias``, o without bias; per-layer ``layer_types``. Used
  for softmax-then-topK, for granular experts, and for every Qwen2 source (its q/k/v biases).

Details the installed modelling code imposes, each unlike what a first reading of the two layouts suggests:
Qwen2-MoE cannot drop its shared expert (there is no switch), so "absent" means a zero-width shared expert
written explicitly; ``decoder_sparse_step`` must be 1 and ``mlp_only_layers`` empty so that every layer is
MoE; Qwen2-MoE has no ``head_dim`` field but its attention reads ``config.head_dim`` when present, so we
write it; Qwen2-MoE and Qwen2 derive different sliding-window layer patterns from ``max_window_layers``, so
``layer_types`` is always written explicitly.
- ``qwen3_moe`` (``Qwen3MoeForCausalLM``), for Qwen3 sources only: the same router and expert names as
  Qwen2-MoE, ``norm_topk_prob`` for the order, no shared expert, and the per-head q/k RMSNorm of Qwen3
  (``self_attn.{q,k}_norm``, copied); q/k/v/o bias iff ``attention_bias``. Sliding-window Qwen3 sources are
  refused (Qwen3-MoE has no per-layer ``layer_types``).

Qwen3-MoE and OLMoE are not targets for Llama/Mistral/Qwen2: both RMS-normalise q and k (Qwen3-MoE per head,
OLMoE over the whole projection), which those attentions do not do, so no weights make them equal to the
dense model. No zero-width tensor is written: Qwen2-MoE's "absent" shared expert (width 0) has no elements
to store, so only its [1, h] gate (zeros) is written and transformers reports the three empty shared-expert
weights as missing, with nothing to initialise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from upcycling.config import RouterOrder

LayoutName = Literal["mixtral", "qwen2_moe", "qwen3_moe"]
SOURCE_FAMILIES = ("llama", "mistral", "qwen2", "qwen3")
LAYOUTS: tuple[LayoutName, ...] = ("mixtral", "qwen2_moe", "qwen3_moe")

DENSE_MLP_KEY = re.compile(r"^model\.layers\.(\d+)\.mlp\.(gate_proj|up_proj|down_proj)\.weight$")
"""The only tensors the upcycler rewrites; every other tensor is copied under its own name."""
ANY_MLP_KEY = re.compile(r"^model\.layers\.(\d+)\.mlp\.")
DROPPED_KEY = re.compile(r"\.rotary_emb\.inv_freq$")
"""Buffers some old Llama checkpoints saved; transformers recomputes them, so they are not written."""

# Config keys that mean the same thing in the dense source and both MoE targets (transformers 5.x names,
# plus the 4.x names rope_theta/rope_scaling, which 5.x still reads and converts on load).
_SHARED_CONFIG_KEYS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
    "hidden_act", "max_position_embeddings", "initializer_range", "rms_norm_eps", "use_cache", "pad_token_id",
    "bos_token_id", "eos_token_id", "tie_word_embeddings", "rope_parameters", "rope_theta", "rope_scaling",
    "partial_rotary_factor", "attention_dropout", "dtype", "torch_dtype",
)
EMPTY_SHARED_EXPERT_KEYS = ("shared_expert.gate_proj.weight", "shared_expert.up_proj.weight",
                            "shared_expert.down_proj.weight")
"""Qwen2-MoE's width-0 shared expert weights: built by transformers, never written (zero elements)."""


@dataclass(frozen=True)
class Layout:
    """Tensor names of one MoE family (per layer L, expert j)."""

    name: LayoutName
    architecture: str
    moe_prefix: str
    """module path of the sparse block under ``model.layers.L.``"""
    expert_parts: dict[str, str]
    """dense projection name → expert tensor name"""

    def router_key(self, layer: int) -> str:
        return f"model.layers.{layer}.{self.moe_prefix}.gate.weight"

    def expert_key(self, layer: int, expert: int, dense_part: str) -> str:
        part = self.expert_parts[dense_part]
        return f"model.layers.{layer}.{self.moe_prefix}.experts.{expert}.{part}.weight"

    def dense_part_of(self, key: str) -> tuple[int, int, str] | None:
        """Inverse of ``expert_key``: (layer, expert, dense part) or None."""
        m = re.match(rf"^model\.layers\.(\d+)\.{re.escape(self.moe_prefix)}\.experts\.(\d+)\.(\w+)\.weight$", key)
        if m is None:
            return None
        inverse = {v: k for k, v in self.expert_parts.items()}
        return (int(m.group(1)), int(m.group(2)), inverse[m.group(3)]) if m.group(3) in inverse else None


LAYOUT_SPECS: dict[LayoutName, Layout] = {
    "mixtral": Layout("mixtral", "MixtralForCausalLM", "block_sparse_moe",
                      {"gate_proj": "w1", "up_proj": "w3", "down_proj": "w2"}),
    "qwen2_moe": Layout("qwen2_moe", "Qwen2MoeForCausalLM", "mlp",
                        {"gate_proj": "gate_proj", "up_proj": "up_proj", "down_proj": "down_proj"}),
    "qwen3_moe": Layout("qwen3_moe", "Qwen3MoeForCausalLM", "mlp",
                        {"gate_proj": "gate_proj", "up_proj": "up_proj", "down_proj": "down_proj"}),
}


@dataclass(frozen=True)
class MoESpec:
    """What the user asked for, after validation: N experts of width F/G, top-T, router order, layout."""

    num_experts: int
    topk: int
    granularity: int
    router_order: RouterOrder
    layout: LayoutName
    weight_scaling: bool = True
    aux_loss_coeff: float = 1e-2
    seed: int = 0


def hf_aux_loss_coef(alpha: float, n_layers: int, topk: int) -> float:
    """The ``router_aux_loss_coef`` under which transformers' pooled load-balancing loss is the paper's.

    The paper (Megatron) adds α·N·Σ_e f_e·P_e in every MoE layer, with f_e the share of the S·T assignments
    that went to expert e and P_e the mean router probability: α per layer at balance, α·L in total.
    transformers (``load_balancing_loss_func`` of Mixtral, Qwen2-MoE, Qwen3-MoE) pools all L layers' logits
    and computes N·Σ_e (count_e / (L·S))·P̄_e, which omits the 1/T: T at balance, whatever L. Multiplying it by
    α·L/T gives α·L at balance and the paper's gradient α·N·f_e/S on every router probability whenever the
    layers' loads agree; the two differ only by the spread of the load between layers (the pooled f and P
    are layer averages). With one MoE layer they are equal (tested).
    """
    return alpha * n_layers / topk


def paper_alpha(router_aux_loss_coef: float, n_layers: int, topk: int) -> float:
    """Inverse of ``hf_aux_loss_coef``: the per-layer α an HF config's coefficient amounts to."""
    return router_aux_loss_coef * topk / n_layers


def choose_layout(family: str, router_order: RouterOrder, granularity: int, requested: str = "auto") -> LayoutName:
    """Qwen3 → Qwen3-MoE always; else Mixtral for coarse topK-then-softmax from a bias-free attention and
    Qwen2-MoE for everything else.

    An explicit request is honoured when the target can express the model exactly, else refused.
    """
    if requested not in ("auto", *LAYOUTS):
        raise ValueError(f"unknown layout {requested!r}; choose one of auto, {', '.join(LAYOUTS)}")
    wants_qwen3_moe = requested == "qwen3_moe" or (requested == "auto" and family == "qwen3")
    if wants_qwen3_moe != (family == "qwen3"):
        raise ValueError(f"a {family} source cannot become {requested}: Qwen3 and Qwen3-MoE RMS-normalise q and k, "
                         "the other families do not; Qwen3 sources take --layout qwen3_moe (or auto), others not")
    if family == "qwen3":
        return "qwen3_moe"
    if requested == "auto":
        if router_order == "topk_softmax" and granularity == 1 and family != "qwen2":
            return "mixtral"
        return "qwen2_moe"
    if requested == "mixtral" and router_order == "softmax_topk":
        raise ValueError("the Mixtral layout always renormalises the top-k weights (topK-then-softmax); "
                         "use --router topk-softmax, or --layout qwen2_moe for softmax-then-topK")
    if requested == "mixtral" and family == "qwen2":
        raise ValueError("Qwen2 attention has q/k/v biases, which Mixtral has no place for; use --layout qwen2_moe")
    return requested  # type: ignore[return-value]


def moe_config(dense: dict, spec: MoESpec) -> dict:
    """The target ``config.json`` dict for the dense source ``config.json`` dict ``dense``."""
    cfg = {k: dense[k] for k in _SHARED_CONFIG_KEYS if k in dense}
    f_expert = dense["intermediate_size"] // spec.granularity
    layout = LAYOUT_SPECS[spec.layout]
    coef = hf_aux_loss_coef(spec.aux_loss_coeff, int(dense["num_hidden_layers"]), spec.topk)
    cfg.update(model_type=spec.layout, architectures=[layout.architecture],
               num_experts_per_tok=spec.topk, router_aux_loss_coef=coef, output_router_logits=True)
    if spec.layout == "mixtral":
        cfg.update(num_local_experts=spec.num_experts, intermediate_size=f_expert, router_jitter_noise=0.0,
                   sliding_window=dense.get("sliding_window") if dense["model_type"] == "mistral" else None)
        return cfg
    common = dict(num_experts=spec.num_experts, moe_intermediate_size=f_expert,
                  intermediate_size=dense["intermediate_size"], norm_topk_prob=spec.router_order == "topk_softmax",
                  decoder_sparse_step=1, mlp_only_layers=[])
    if spec.layout == "qwen3_moe":
        cfg.update(common, attention_bias=bool(dense.get("attention_bias", False)), use_sliding_window=False,
                   sliding_window=None)
        return cfg
    cfg.update(num_experts=spec.num_experts, moe_intermediate_size=f_expert,
               intermediate_size=dense["intermediate_size"], shared_expert_intermediate_size=0,
               norm_topk_prob=spec.router_order == "topk_softmax", decoder_sparse_step=1, mlp_only_layers=[],
               qkv_bias=dense["model_type"] == "qwen2", **_sliding_window_fields(dense))
    return cfg


def _sliding_window_fields(dense: dict) -> dict:
    """Per-layer attention kinds for Qwen2-MoE, reproducing the dense model's masks exactly."""
    n = int(dense["num_hidden_layers"])
    family = dense["model_type"]
    if family == "qwen2":
        window = dense.get("sliding_window") if dense.get("use_sliding_window") else None
        first = int(dense.get("max_window_layers", 28))  # Qwen2Config's rule when layer_types is absent
        kinds = list(dense.get("layer_types") or
                     ["sliding_attention" if window and i >= first else "full_attention" for i in range(n)])
    elif family == "mistral" and dense.get("sliding_window"):
        kinds, window = ["sliding_attention"] * n, dense["sliding_window"]
    else:
        kinds, window = ["full_attention"] * n, None
    if "sliding_attention" not in kinds or not window:
        return {"use_sliding_window": False, "layer_types": ["full_attention"] * n}
    return {"use_sliding_window": True, "sliding_window": window, "max_window_layers": n, "layer_types": kinds}
