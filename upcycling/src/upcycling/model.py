"""A Nemotron/Megatron-style decoder-only GPT whose MLP is either dense or a Mixture of Experts.

Parts in order: norms, rotary embedding, attention, the dense MLP, the decoder block, the model. The dense
and MoE models share every module except the MLP, which a ``mlp_factory`` builds, so upcycling is a pure
state-dict transform: attention, norms, embeddings and head keep their keys, and only ``layers.L.mlp.*``
changes (dense ``fc1``/``fc2`` → MoE ``router`` + stacked ``experts``).

Every MLP returns ``(y, stats)``: ``stats`` is None for the dense MLP and an ``MoEStats`` (aux losses,
expert load) for the MoE layer, so the loss and the logger see the router without global state.

Weight layout (kept identical to Megatron's dense MLP so sharding along the intermediate axis is a slice):
``fc1.weight`` is [F, h], or [2F, h] for SwiGLU with the gate rows first and the up rows second;
``fc2.weight`` is [h, F].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from upcycling.activations import activate, fc1_rows
from upcycling.config import GPTConfig, MoEConfig
from upcycling.moe.layer import MoELayer, MoEStats


class RMSNorm(nn.Module):
    """x / rms(x) · w, computed in fp32 (as Llama and Megatron do) so bf16 runs keep the same statistics."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).to(x.dtype)


class LayerNorm1P(nn.Module):
    """LayerNorm whose stored weight is the gain minus one (Megatron ``--apply-layernorm-1p``, Nemotron-4, HF
    ``NemotronLayerNorm1P``): weight decay then pulls the gain towards 1, not 0. Always with a bias, as in
    Nemotron; computed in fp32 like the other norms."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.float(), (x.shape[-1],), self.weight.float() + 1.0, self.bias.float(), self.eps)
        return y.to(x.dtype)


def build_norm(cfg: GPTConfig) -> nn.Module:
    if cfg.norm == "rmsnorm":
        return RMSNorm(cfg.hidden, cfg.norm_eps)
    if cfg.norm == "layernorm1p":
        return LayerNorm1P(cfg.hidden, cfg.norm_eps)
    return nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps, bias=cfg.bias)


class Rotary(nn.Module):
    """Rotary position embedding in the rotate-half convention (Llama/HF), so HF weights load unpermuted.

    Partial rotary (``rotary_dim`` < head size, Nemotron-4's 50 %): only the first ``rotary_dim`` dimensions
    of each head rotate, with frequencies computed over ``rotary_dim``; the rest pass through (as Megatron
    and HF Nemotron do).
    """

    def __init__(self, rotary_dim: int, max_seq_len: int, theta: float) -> None:
        super().__init__()
        self.rotary_dim, self.max_seq_len, self.theta = rotary_dim, max_seq_len, theta
        self.register_buffer("cos", torch.empty(max_seq_len, rotary_dim), persistent=False)
        self.register_buffer("sin", torch.empty(max_seq_len, rotary_dim), persistent=False)
        self.reset_tables()

    def reset_tables(self) -> None:
        """(Re)compute the cos/sin tables, in fp64 then fp32; also after a meta-device model is materialised."""
        if self.cos.is_meta:
            return
        d = self.rotary_dim
        inv_freq = 1.0 / self.theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
        angles = torch.outer(torch.arange(self.max_seq_len, dtype=torch.float64), inv_freq)  # [S, d/2]
        angles = torch.cat([angles, angles], dim=-1).to(self.cos.device)  # [S, d]
        self.cos.copy_(angles.cos().float())
        self.sin.copy_(angles.sin().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, heads, S, d] → same shape, rotated by position."""
        s = x.shape[-2]
        if s > self.cos.shape[0]:
            raise ValueError(f"sequence length {s} exceeds model.max_seq_len={self.cos.shape[0]}")
        cos, sin = self.cos[:s].to(x.dtype), self.sin[:s].to(x.dtype)
        rot, rest = x[..., :self.rotary_dim], x[..., self.rotary_dim:]
        x1, x2 = rot.chunk(2, dim=-1)
        rot = rot * cos + torch.cat([-x2, x1], dim=-1) * sin
        return rot if rest.shape[-1] == 0 else torch.cat([rot, rest], dim=-1)


class Attention(nn.Module):
    """Causal self-attention with grouped-query heads through ``F.scaled_dot_product_attention``."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv, self.d = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.q = nn.Linear(cfg.hidden, cfg.n_heads * self.d, bias=cfg.bias)
        self.k = nn.Linear(cfg.hidden, cfg.n_kv_heads * self.d, bias=cfg.bias)
        self.v = nn.Linear(cfg.hidden, cfg.n_kv_heads * self.d, bias=cfg.bias)
        self.o = nn.Linear(cfg.n_heads * self.d, cfg.hidden, bias=cfg.bias)
        self.rotary = Rotary(cfg.rotary_dim, cfg.max_seq_len, cfg.rope_theta)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        q = self.q(x).view(b, s, self.n_heads, self.d).transpose(1, 2)  # [B, H, S, d]
        k = self.k(x).view(b, s, self.n_kv, self.d).transpose(1, 2)  # [B, Hkv, S, d]
        v = self.v(x).view(b, s, self.n_kv, self.d).transpose(1, 2)  # [B, Hkv, S, d]
        q, k = self.rotary(q), self.rotary(k)
        if self.n_kv != self.n_heads:
            rep = self.n_heads // self.n_kv
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)  # [B, H, S, d]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)  # [B, H, S, d]
        return self.o(y.transpose(1, 2).reshape(b, s, self.n_heads * self.d))


class DenseMLP(nn.Module):
    """fc1 → activation → fc2 (Megatron `linear_fc1`/`linear_fc2`)."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.activation = cfg.activation
        self.fc1 = nn.Linear(cfg.hidden, fc1_rows(cfg.activation, cfg.ffn_hidden), bias=cfg.bias)
        self.fc2 = nn.Linear(cfg.ffn_hidden, cfg.hidden, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.fc2(activate(self.fc1(x), self.activation)), None


MLPFactory = Callable[[GPTConfig, int], nn.Module]
"""Builds the MLP of layer ``i``; every MLP returns ``(y, MoEStats | None)``."""


def dense_mlp_factory(cfg: GPTConfig, layer: int) -> nn.Module:
    return DenseMLP(cfg)


def moe_mlp_factory(moe: MoEConfig) -> MLPFactory:
    """MoE layers where ``moe.is_moe_layer(layer)`` (every layer unless ``moe.moe_every`` > 1), dense MLPs
    (keys ``fc1``/``fc2``, as in the dense model) elsewhere."""

    def build(cfg: GPTConfig, layer: int) -> nn.Module:
        if not moe.is_moe_layer(layer):
            return DenseMLP(cfg)
        return MoELayer(cfg.hidden, moe.expert_ffn_hidden(cfg.ffn_hidden), cfg.activation, cfg.bias, moe,
                        init_std=cfg.init_std)

    return build


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: GPTConfig, mlp: nn.Module) -> None:
        super().__init__()
        self.attn_norm = build_norm(cfg)
        self.attn = Attention(cfg)
        self.mlp_norm = build_norm(cfg)
        self.mlp = mlp
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, MoEStats | None]:
        x = x + self.drop(self.attn(self.attn_norm(x)))
        y, stats = self.mlp(self.mlp_norm(x))
        return x + self.drop(y), stats


class Blocks(nn.ModuleList):
    """The decoder stack; a container with a ``forward`` so FSDP2 can shard it as a unit (it refuses a plain
    ModuleList), while its keys stay ``layers.L.*``.

    ``checkpointing``: activation checkpointing per block (non-reentrant ``torch.utils.checkpoint``): only each
    block's input is kept for the backward, and the block is recomputed then (routing included, which is
    deterministic, so the recomputed experts see the same tokens)."""

    checkpointing: bool = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[MoEStats]]:
        stats: list[MoEStats] = []
        for layer in self:
            if self.checkpointing and torch.is_grad_enabled():
                x, s = torch.utils.checkpoint.checkpoint(layer, x, use_reentrant=False)
            else:
                x, s = layer(x)
            if s is not None:
                stats.append(s)
        return x, stats


@dataclass
class GPTOutput:
    logits: torch.Tensor
    """[B, S, V]"""
    moe: list[MoEStats] = field(default_factory=list)
    """one entry per MoE layer, in layer order (empty for the dense model)"""


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig, mlp_factory: MLPFactory = dense_mlp_factory) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.layers = Blocks(Block(cfg, mlp_factory(cfg, i)) for i in range(cfg.n_layers))
        self.final_norm = build_norm(cfg)
        self.lm_head = None if cfg.tied_embeddings else nn.Linear(cfg.hidden, cfg.vocab_size, bias=False)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """Megatron's init: N(0, init_std) for matrices, and output projections (attention `o`, MLP `fc2`)
        scaled by 1/sqrt(2·layers) so the residual stream's variance does not grow with depth."""
        std = self.cfg.init_std
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
        for name in ("o", "fc2"):
            sub = getattr(module, name, None)
            if isinstance(sub, nn.Linear):
                nn.init.normal_(sub.weight, 0.0, std / math.sqrt(2 * self.cfg.n_layers))

    def forward(self, tokens: torch.Tensor) -> GPTOutput:
        """tokens [B, S] int64 → logits [B, S, V] and the MoE layers' statistics."""
        x, stats = self.layers(self.embed(tokens))  # [B, S, h]
        x = self.final_norm(x)
        # call the head module (not its .weight) so FSDP2 gathers its shards; a tied head reuses the embedding
        logits = F.linear(x, self.embed.weight) if self.lm_head is None else self.lm_head(x)
        return GPTOutput(logits=logits, moe=stats)


def build_model(cfg: GPTConfig, moe: MoEConfig | None = None) -> GPT:
    """The dense GPT, or the MoE GPT when ``moe`` is given."""
    return GPT(cfg, dense_mlp_factory if moe is None else moe_mlp_factory(moe))
