"""Config dataclasses: the dense GPT, its MoE variant, the data, the upcycling init and the trainer.

Notation follows the paper (He et al. 2024, §2.2, after Krajewski et al. 2024): **E** is the expansion
rate (MoE layer parameters / dense MLP parameters), **G** the granularity (dense FFN width / expert
width), **T** the top-K. The number of routed experts is N = E·G. Like Megatron (`num_moe_experts`) and
the Hugging Face MoE configs, ``MoEConfig.num_experts`` stores N, the count of expert weight matrices;
``MoEConfig.from_notation("E8G8T8")`` builds one from the paper's names (N = 64, G = 8, T = 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from ninerepro.train import TrainerConfig

Activation = Literal["squared_relu", "swiglu", "gelu"]
Norm = Literal["rmsnorm", "layernorm", "layernorm1p"]
RouterOrder = Literal["softmax_topk", "topk_softmax"]
ROUTER_SPELLINGS: dict[str, RouterOrder] = {"softmax_topk": "softmax_topk", "softmax-topk": "softmax_topk",
                                            "topk_softmax": "topk_softmax", "topk-softmax": "topk_softmax"}
"""What every command accepts for a router order (config files use the underscore forms)."""
DropPolicy = Literal["probs", "position"]
GluScaling = Literal["paper", "exact"]

_NOTATION = re.compile(r"^E(\d+)G(\d+)T(\d+)$")


@dataclass
class GPTConfig:
    """A Nemotron/Megatron-style decoder-only transformer (pre-norm, RoPE, no positional embeddings)."""

    vocab_size: int = 256
    """token vocabulary; 256 for the built-in byte-level tokenizer"""
    n_layers: int = 4
    hidden: int = 128
    """model width h"""
    n_heads: int = 4
    n_kv_heads: int = 0
    """key/value heads for grouped-query attention; 0 = n_heads (plain multi-head attention)"""
    ffn_hidden: int = 512
    """dense MLP intermediate width F (Nemotron-4: 4h with squared-ReLU)"""
    activation: Activation = "squared_relu"
    """squared_relu (Nemotron-4 15B), swiglu (Nemotron 2B, Llama), gelu (GPT-2)"""
    norm: Norm = "rmsnorm"
    """rmsnorm (Llama), layernorm (GPT; bias iff ``bias``) or layernorm1p (Nemotron-4, Megatron
    ``--apply-layernorm-1p``: LayerNorm with bias whose stored weight is gain − 1, initialised at 0)"""
    norm_eps: float = 1e-5
    bias: bool = False
    """biases in every linear layer (Nemotron: none)"""
    tied_embeddings: bool = False
    """share the input embedding with the output head (Nemotron: untied)"""
    rope_theta: float = 10000.0
    rotary_percent: float = 1.0
    """share of each head's dimensions that RoPE rotates (the first ones), Megatron ``--rotary-percent``, HF
    ``partial_rotary_factor``; Nemotron-4: 0.5"""
    max_seq_len: int = 256
    """longest sequence RoPE tables are built for"""
    dropout: float = 0.0
    """dropout on attention probabilities and residual branches (Nemotron: 0)"""
    init_std: float = 0.02
    """normal init std of every weight matrix (Megatron `init_method_std`)"""

    def __post_init__(self) -> None:
        if self.n_kv_heads == 0:
            self.n_kv_heads = self.n_heads
        if self.hidden % self.n_heads:
            raise ValueError(f"model.hidden={self.hidden} is not divisible by model.n_heads={self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"model.n_heads={self.n_heads} is not divisible by model.n_kv_heads={self.n_kv_heads}")
        if (self.hidden // self.n_heads) % 2:
            raise ValueError(f"head size {self.hidden // self.n_heads} must be even for RoPE; change model.n_heads")
        if not 0 < self.rotary_percent <= 1 or self.rotary_dim % 2:
            raise ValueError(f"model.rotary_percent={self.rotary_percent} must be in (0, 1] and rotate an even number "
                             f"of the {self.hidden // self.n_heads} head dimensions (got {self.rotary_dim})")
        for name in ("vocab_size", "n_layers", "hidden", "ffn_hidden", "max_seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def head_dim(self) -> int:
        return self.hidden // self.n_heads

    @property
    def rotary_dim(self) -> int:
        """Head dimensions RoPE rotates: int(head_dim · rotary_percent), as Megatron and HF compute it."""
        return int(self.head_dim * self.rotary_percent)


@dataclass
class MoEConfig:
    """The routed MLP that replaces the dense MLPs (every one by default: Megatron `moe_layer_freq` = 1).

    Three options beyond the paper's setting, all off by default so the paper's configs are unchanged:
    shared experts (DeepSeekMoE, Qwen2-MoE), MoE only in every k-th layer (Megatron ``--moe-layer-freq``, the
    interleaving of GShard/Switch), and aux-loss-free balancing with a per-expert selection bias (DeepSeek-V3).
    """

    num_experts: int = 8
    """N = E·G routed experts (Megatron `--num-experts`, HF `num_local_experts`/`num_experts`)"""
    topk: int = 2
    """T experts per token (Megatron `--moe-router-topk`)"""
    granularity: int = 1
    """G = dense ffn_hidden / expert width (Megatron `--moe-upcycling-granularity`)"""
    router_order: str = "softmax_topk"
    """softmax_topk = Megatron `--moe-router-pre-softmax` (probabilities over all N experts, top-T kept,
    not renormalised; the paper's choice, §3.4); topk_softmax = Megatron's default (softmax over the T
    selected logits, equal to HF Mixtral)"""
    aux_loss_coeff: float = 1e-2
    """α of the Switch load-balancing loss (paper §3.3: 1e-2 everywhere)"""
    z_loss_coeff: float = 0.0
    """ST-MoE router z-loss coefficient (paper §3.3: no difference, so 0)"""
    capacity_factor: float | None = None
    """None = dropless (the paper's setting); else capacity per expert = ceil(tokens·T/N·cf)"""
    drop_policy: str = "probs"
    """which tokens an over-full expert drops: lowest routing probability (probs) or latest (position)"""
    shared_experts: int = 0
    """S always-on experts of the routed width F/G beside the routed ones, run as one MLP of width S·F/G
    whose output is added to the routed output (DeepSeekMoE; Megatron ``--moe-shared-expert-intermediate-size``
    = S·F/G). Upcycled from the dense MLP too (``upcycling.upcycle``), which needs S a multiple of G"""
    moe_every: int = 1
    """MoE layer frequency k: layer i is an MoE layer iff i % k == 0, the others keep the dense MLP
    (Megatron ``--moe-layer-freq k``); 1 = every layer (the paper)"""
    expert_bias: bool = False
    """aux-loss-free balancing (DeepSeek-V3, Megatron ``--moe-router-enable-expert-bias``): a per-expert fp32
    bias added to the router scores for the top-T choice only (the combine weights stay unbiased), moved
    after every optimizer step by ``expert_bias_rate`` · sign(mean load − expert load)"""
    expert_bias_rate: float = 1e-3
    """γ of the bias update (DeepSeek-V3 and Megatron ``--moe-router-bias-update-rate``: 1e-3)"""

    def __post_init__(self) -> None:
        if self.num_experts < 1 or self.topk < 1 or self.granularity < 1:
            raise ValueError(
                f"moe.num_experts, moe.topk and moe.granularity must be >= 1, got "
                f"{self.num_experts}, {self.topk}, {self.granularity}"
            )
        # plain str + these checks, not Literal: ninerepro's loader reports a failed Optional[MoEConfig] section
        # without the inner reason, and these messages must name the valid choices
        self.router_order = ROUTER_SPELLINGS.get(self.router_order, self.router_order)  # softmax-topk too
        if self.router_order not in get_args(RouterOrder):
            raise ValueError(f"moe.router_order={self.router_order!r}; use one of {get_args(RouterOrder)} "
                             "(softmax_topk = Megatron --moe-router-pre-softmax)")
        if self.drop_policy not in get_args(DropPolicy):
            raise ValueError(f"moe.drop_policy={self.drop_policy!r}; use one of {get_args(DropPolicy)}")
        if self.topk > self.num_experts:
            raise ValueError(f"moe.topk={self.topk} exceeds moe.num_experts={self.num_experts}")
        if self.capacity_factor is not None and self.capacity_factor <= 0:
            raise ValueError(f"moe.capacity_factor must be > 0 or null (dropless), got {self.capacity_factor}")
        if self.shared_experts < 0:
            raise ValueError(f"moe.shared_experts must be >= 0 (0 = none), got {self.shared_experts}")
        if self.moe_every < 1:
            raise ValueError(f"moe.moe_every must be >= 1 (1 = every layer is MoE), got {self.moe_every}")
        if not self.expert_bias_rate > 0:
            raise ValueError(f"moe.expert_bias_rate must be > 0 (DeepSeek-V3: 1e-3), got {self.expert_bias_rate}")

    def is_moe_layer(self, layer: int) -> bool:
        """Whether decoder layer ``layer`` (0-based) is an MoE layer: ``layer % moe_every == 0`` (Megatron)."""
        return layer % self.moe_every == 0

    def moe_layers(self, n_layers: int) -> list[int]:
        """The MoE layers of an ``n_layers`` stack, in order."""
        return [i for i in range(n_layers) if self.is_moe_layer(i)]

    @property
    def expansion_rate(self) -> float:
        """E = N / G (an integer for every virtual-group layout)."""
        return self.num_experts / self.granularity

    def expert_ffn_hidden(self, dense_ffn_hidden: int) -> int:
        """Width of one expert, F/G; refuses a granularity that does not divide F."""
        if dense_ffn_hidden % self.granularity:
            raise ValueError(
                f"moe.granularity={self.granularity} does not divide model.ffn_hidden={dense_ffn_hidden}; "
                f"pick G among the divisors of {dense_ffn_hidden}"
            )
        return dense_ffn_hidden // self.granularity

    def beyond_paper(self) -> list[str]:
        """The options set away from the paper's layout (shared experts, interleaving, expert bias), as
        ``field=value``; exporters that write only the paper's layout refuse a non-empty list."""
        out = [f"moe.shared_experts={self.shared_experts}"] if self.shared_experts else []
        out += [f"moe.moe_every={self.moe_every}"] if self.moe_every != 1 else []
        return out + (["moe.expert_bias=true"] if self.expert_bias else [])

    def shared_ffn_hidden(self, dense_ffn_hidden: int) -> int:
        """Width of the shared-expert MLP, S·F/G (0 without shared experts)."""
        return self.shared_experts * self.expert_ffn_hidden(dense_ffn_hidden)

    def name(self) -> str:
        """The paper's E·G·T name, e.g. E8G1T2 (E printed as an integer when it is one); routed experts only."""
        e = self.expansion_rate
        e_txt = str(int(e)) if e == int(e) else f"{e:g}"
        return f"E{e_txt}G{self.granularity}T{self.topk}"

    @classmethod
    def from_notation(cls, text: str, **kwargs) -> MoEConfig:
        """Build from the paper's name: "E8G8T8" → N = 64 experts of width F/8, top-8."""
        m = _NOTATION.match(text.strip())
        if m is None:
            raise ValueError(f"{text!r} is not an upcycling name like E8G1T2 (E expansion, G granularity, T top-K)")
        e, g, t = (int(v) for v in m.groups())
        return cls(num_experts=e * g, granularity=g, topk=t, **kwargs)


@dataclass
class DataConfig:
    path: str = "data/stdlib/tokens.bin"
    """token file written by `upcycle prepare` (its `.json` meta sits beside it)"""
    seq_len: int = 128
    """tokens per training window (plus one for the shifted target)"""
    batch_size: int = 16
    """windows per micro-batch per rank"""
    val_batches: int = 8
    """fixed held-out batches averaged for the validation loss"""


@dataclass
class InitConfig:
    """How a run's weights start: random, from a dense checkpoint, or upcycled from a dense checkpoint."""

    init_from: str = ""
    """dense checkpoint (our .pt) to start from; ignored once the run folder holds a checkpoint"""
    weight_scaling: bool = True
    """scale W1 and W2 of the upcycled experts (paper Eq. 2)"""
    glu_scaling: str = "paper"
    """how SwiGLU experts are scaled: paper = a = s^(1/3) on gate, up and down (paper §2, Megatron; only
    approximately dense-equal, silu is not homogeneous); exact = s^(1/2) on up and down, gate unchanged
    (dense-equal for topK-then-softmax). See ``upcycling.upcycle``"""
    router_init_std: float = 0.02
    """std of the random router rows (Megatron init_method_std)"""

    def __post_init__(self) -> None:
        if self.glu_scaling not in get_args(GluScaling):
            raise ValueError(f"init.glu_scaling={self.glu_scaling!r}; use one of {get_args(GluScaling)} "
                             "(paper = s^(1/3) on every projection, exact = s^(1/2) on up and down)")


@dataclass
class ScaleConfig:
    """What a run needs beyond one GPU's memory (see ``upcycling.sharded`` and ``upcycling.memory``)."""

    activation_checkpointing: bool = False
    """recompute each decoder block in the backward, keeping only its input"""
    meta_init: bool = True
    """with train.fsdp=true under torchrun and a fresh run with init.init_from (one of our checkpoints): build
    the model on the meta device, shard it, and fill each rank's shards from the checkpoint (no full copy)"""


@dataclass
class RunConfig:
    model: GPTConfig = field(default_factory=GPTConfig)
    moe: MoEConfig | None = None
    """None = the dense model"""
    data: DataConfig = field(default_factory=DataConfig)
    init: InitConfig = field(default_factory=InitConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)
    scale: ScaleConfig = field(default_factory=ScaleConfig)

    def __post_init__(self) -> None:
        if self.moe is not None:
            self.moe.expert_ffn_hidden(self.model.ffn_hidden)
        if self.init.glu_scaling == "exact" and self.model.activation != "swiglu":
            raise ValueError(f"init.glu_scaling='exact' needs a gated MLP, but model.activation="
                             f"{self.model.activation!r}; set model.activation=swiglu or init.glu_scaling=paper")
        if self.train.fsdp and self.model.tied_embeddings:
            raise ValueError("train.fsdp=true with model.tied_embeddings=true is not supported (the head would read "
                             "a sharded embedding); untie the embeddings or use DDP")
        if self.data.seq_len > self.model.max_seq_len:
            raise ValueError(
                f"data.seq_len={self.data.seq_len} exceeds model.max_seq_len={self.model.max_seq_len}; "
                "raise model.max_seq_len or shorten data.seq_len"
            )
