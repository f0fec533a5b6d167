"""Our GPT at a size that needs many GPUs: built on the meta device, sharded by FSDP2 before any weight
exists, then filled shard by shard from the dense checkpoint, upcycled one layer at a time.

Why: the old path built the full model in fp32 on every rank (Nemotron-4 15B E8G1T2: ~83 B parameters,
~333 GB) before sharding it. Here no rank ever holds a full copy: the model is created with ``device="meta"``
(shapes only), ``fully_shard`` is applied per decoder block and at the root with a ``MixedPrecisionPolicy``
(bf16 compute, fp32 gradient reduction, fp32 sharded master weights), ``to_empty`` allocates only each
rank's shards, and ``load_sharded`` visits the parameters in order, computes each full tensor once on the
host (dense tensors memory-mapped from the checkpoint; a layer's expert tensors upcycled when the layer is
first reached, ``LazyUpcycledSource``) and keeps only this rank's slice. Peak host memory per rank: one
layer's expert tensors.

The routers are drawn from one seeded generator layer by layer, exactly as ``upcycle_state_dict`` draws them,
so the sharded model equals the in-memory upcycled one bit for bit (tested with 2 gloo ranks on CPU).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ninerepro.train.checkpoint import FORMAT
from upcycling.checkpoints import check_same_model, read_checkpoint_configs
from upcycling.config import GPTConfig, MoEConfig
from upcycling.model import GPT, Rotary, build_model
from upcycling.moe.router import Router
from upcycling.upcycle import check_moe_shape, upcycle_mlp, virtual_group_router, weight_factors

log = logging.getLogger(__name__)

TensorSource = Callable[[str], torch.Tensor]
"""Full (unsharded) tensor of a state-dict key."""


class _SkipInitOnMeta(TorchFunctionMode):
    """Skips the initialisers (``nn.init.*``, ``Tensor.normal_``, ...) while a meta model is built.

    Why: a meta tensor has no values to initialise, yet torch runs ``normal_`` on meta through its Python
    reference, which imports ``torch._dynamo`` on first use: 7 s on an idle core, 20-25 s per rank on the
    loaded 2-core machine, i.e. most of the time of a 2-rank gloo run. Every value is written later by
    ``load_sharded``, so nothing is lost.
    """

    _SKIP = frozenset({nn.init.normal_, nn.init.trunc_normal_, nn.init.uniform_, nn.init.zeros_, nn.init.ones_,
                       nn.init.constant_, nn.init.kaiming_uniform_, nn.init.xavier_uniform_,
                       torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.zero_, torch.Tensor.fill_})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        target = args[0] if args else kwargs.get("tensor")  # nn.init passes the tensor by keyword
        if func in self._SKIP and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        return func(*args, **kwargs)


def build_on_meta(cfg: GPTConfig, moe: MoEConfig | None) -> GPT:
    """The model with shapes but no storage and no initialisation (instant, whatever its size)."""
    with torch.device("meta"), _SkipInitOnMeta():
        return build_model(cfg, moe)


class LazyUpcycledSource:
    """Tensors of the upcycled MoE (or the dense model when ``moe`` is None), computed per key on demand from
    a dense checkpoint of ours read with ``mmap`` (the file is not loaded)."""

    def __init__(self, path: str | os.PathLike, cfg: GPTConfig, moe: MoEConfig | None, *, weight_scaling: bool,
                 glu_scaling: str, router_init_std: float, seed: int) -> None:
        p = Path(path)
        state = torch.load(p, map_location="cpu", weights_only=True, mmap=True)
        if not isinstance(state, dict) or state.get("format") != FORMAT or "model" not in state:
            raise ValueError(f"{p}: sharded loading reads checkpoints written by upcycling's train.py; "
                             "re-save other sources with `upcycle upcycle` or train.py first")
        found_cfg, found_moe = read_checkpoint_configs(state, str(p))
        check_same_model(cfg, found_cfg, str(p))
        if found_moe is not None:
            raise ValueError(f"{p} is an MoE checkpoint; sharded loading upcycles dense checkpoints (set "
                             "scale.meta_init=false to start from it as is)")
        self.dense, self.cfg, self.moe = state["model"], cfg, moe
        self._layer: tuple[int, dict[str, torch.Tensor]] | None = None
        self.weight_scaling = weight_scaling
        if moe is not None:
            check_moe_shape(cfg.ffn_hidden, moe)
            self.factors = weight_factors(moe, cfg.activation, weight_scaling=weight_scaling, glu_scaling=glu_scaling)
            gen = torch.Generator().manual_seed(seed)  # the draw order of upcycle_state_dict: MoE layers in order
            self.routers = {i: virtual_group_router(moe, cfg.hidden, router_init_std, gen)
                            for i in moe.moe_layers(cfg.n_layers)}

    def __call__(self, key: str) -> torch.Tensor:
        if self.moe is None or ".mlp." not in key:
            return self.dense[key]
        layer = int(key.split(".")[1])
        if not self.moe.is_moe_layer(layer):
            return self.dense[key]
        if self._layer is None or self._layer[0] != layer:
            prefix = f"layers.{layer}.mlp."
            self._layer = (layer, upcycle_mlp(self.dense, prefix, self.cfg, self.moe, self.routers[layer],
                                              self.factors, weight_scaling=self.weight_scaling))
        return self._layer[1][key]


def fsdp_shard(model: GPT, precision: str) -> None:
    """FSDP2 per decoder block, then the root; bf16 compute with fp32 reduction for precision=bf16."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if precision == "bf16" else \
        MixedPrecisionPolicy()
    for block in model.layers:
        fully_shard(block, mp_policy=mp)
    fully_shard(model, mp_policy=mp)


def reset_buffers(model: nn.Module) -> None:
    """Recompute the buffers ``to_empty`` leaves uninitialised: RoPE tables, and the routers' expert biases
    (0 at upcycling, as ``upcycle_state_dict`` writes them)."""
    for m in model.modules():
        if isinstance(m, Rotary):
            m.reset_tables()
        if isinstance(m, Router) and m.expert_bias is not None:
            m.expert_bias.zero_()


@torch.no_grad()
def load_sharded(model: nn.Module, source: TensorSource) -> None:
    """Fill every parameter (a DTensor shard under FSDP2, or a plain tensor) from its full tensor."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    for name, p in model.named_parameters():
        full = source(name).to(p.dtype)
        if isinstance(p, DTensor):
            local = distribute_tensor(full, p.device_mesh, p.placements, src_data_rank=None).to_local()
            p.to_local().copy_(local)
        else:
            p.copy_(full)
        del full


def build_sharded(cfg: GPTConfig, moe: MoEConfig | None, source: TensorSource, device: torch.device,
                  precision: str) -> GPT:
    """Meta build → FSDP2 shard → allocate this rank's shards on ``device`` → fill them from ``source``."""
    model = build_on_meta(cfg, moe)
    fsdp_shard(model, precision)
    model.to_empty(device=device)
    reset_buffers(model)
    load_sharded(model, source)
    return model
