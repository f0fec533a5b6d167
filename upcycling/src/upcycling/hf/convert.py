"""`upcycle convert`: a dense Hugging Face checkpoint → an MoE checkpoint that ``AutoModelForCausalLM`` loads.

Usage::

    upcycle convert --dense llama-1b --out llama-1b-E8G1T2 --num-experts 8 --topk 2 --router topk-softmax
    upcycle convert --dense qwen2-0.5b --out qwen2-E8G8T8 --num-experts 64 --topk 8 --granularity 8

Steps (see ``plan.py`` for the checks that run first):
1. stream the source tensors shard by shard; gate/up/down of every layer become N expert tensors
   (``experts.py``), everything else is copied under its own name;
2. append one router per layer (virtual-group rows) and, for Qwen2-MoE, a zero-width shared expert;
3. write size-capped shards + index (``safetensors_io.py``), config.json, tokenizer and generation files
   and ``upcycling.json`` (what was done, with the scale factors) into a hidden staging folder beside
   ``--out``, and rename it to ``--out`` only when everything is written.

Peak host memory is about one output shard (``--max-shard-size``) plus one source tensor and one expert
tensor, whatever the model size.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from upcycling.hf.experts import expert_tensors
from upcycling.hf.layouts import DENSE_MLP_KEY, DROPPED_KEY
from upcycling.hf.plan import ConversionPlan, check_out_dir, plan_conversion
from upcycling.hf.safetensors_io import ShardedWriter, parse_size
from upcycling.upcycle import activation_scale, virtual_group_router

log = logging.getLogger(__name__)

SIDE_FILE_PATTERNS = ("tokenizer*", "special_tokens_map.json", "added_tokens.json", "vocab.*", "merges.txt",
                      "*.tiktoken", "chat_template*", "generation_config.json", "LICENSE*")
"""Files copied unchanged from the dense folder (the tokenizer and generation defaults stay valid)."""


@dataclass
class ConversionReport:
    out_dir: Path
    layout: str
    name: str
    router_order: str
    activation_scale: float
    factors: dict[str, float]
    shards: list[str]
    total_bytes: int
    copied_files: list[str]

    def __str__(self) -> str:
        f = ", ".join(f"{k} ×{v:.4g}" for k, v in self.factors.items())
        return (f"wrote {self.out_dir}: {self.layout} layout, {self.name} ({self.router_order}), activation scale "
                f"s={self.activation_scale:.4g}, weights {f}; {len(self.shards)} shard(s), "
                f"{self.total_bytes / 1e6:.1f} MB; copied {', '.join(self.copied_files) or 'no side files'}")


def convert_checkpoint(dense_dir: str | os.PathLike, out_dir: str | os.PathLike, *, num_experts: int, topk: int,
                       max_shard_size: str | int = "5GB", overwrite: bool = False, **options) -> ConversionReport:
    """Validate, then write the MoE checkpoint atomically; ``options`` go to ``plan_conversion``."""
    max_bytes = parse_size(max_shard_size)
    plan = plan_conversion(dense_dir, out_dir, num_experts=num_experts, topk=topk, overwrite=overwrite, **options)
    log.info("upcycling %s (%s) → %s layout, %s, %s", plan.dense_dir, plan.dense_config["model_type"],
             plan.layout.name, plan.moe.name(), plan.spec.router_order)
    with staging_dir(plan.out_dir, overwrite) as tmp:
        writer = ShardedWriter(tmp, max_bytes)
        for key, tensor in converted_tensors(plan):
            writer.add(key, tensor)
        shards = writer.finish()
        copied = write_side_files(plan, tmp)
    return ConversionReport(plan.out_dir, plan.layout.name, plan.moe.name(), plan.spec.router_order,
                            activation_scale(plan.moe), plan.factors, shards, writer.total_bytes, copied)


def converted_tensors(plan: ConversionPlan) -> Iterator[tuple[str, torch.Tensor]]:
    """The MoE checkpoint's tensors, produced one at a time from the dense checkpoint's."""
    router_dtypes: dict[int, torch.dtype] = {}
    for key, tensor in plan.checkpoint.iter_tensors():
        m = DENSE_MLP_KEY.match(key)
        if DROPPED_KEY.search(key):
            continue
        if m is None:
            yield key, tensor
            continue
        layer, part = int(m.group(1)), m.group(2)
        router_dtypes.setdefault(layer, tensor.dtype)
        experts = expert_tensors(tensor, part, plan.moe, plan.factors[part])
        for j, w in enumerate(experts):
            yield plan.layout.expert_key(layer, j, part), w
        del tensor
    yield from layer_extras(plan, router_dtypes)


def layer_extras(plan: ConversionPlan, dtypes: dict[int, torch.dtype]) -> Iterator[tuple[str, torch.Tensor]]:
    """Routers (drawn layer by layer from one seeded generator) and, for Qwen2-MoE, the zero gate of its empty
    shared expert (the width-0 weights themselves are not written: ``layouts.EMPTY_SHARED_EXPERT_KEYS``)."""
    h = plan.dense_config["hidden_size"]
    gen = torch.Generator().manual_seed(plan.spec.seed)
    for layer in range(plan.dense_config["num_hidden_layers"]):
        dtype = dtypes[layer]
        yield plan.layout.router_key(layer), virtual_group_router(plan.moe, h, plan.router_std, gen, dtype)
        if plan.layout.name == "qwen2_moe":
            yield f"model.layers.{layer}.mlp.shared_expert_gate.weight", torch.zeros(1, h, dtype=dtype)


def write_side_files(plan: ConversionPlan, folder: Path) -> list[str]:
    """config.json, upcycling.json and the tokenizer/generation files of the dense folder."""
    (folder / "config.json").write_text(json.dumps(plan.target_config, indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")
    record = {"source": str(plan.dense_dir), "source_model_type": plan.dense_config["model_type"],
              "name": plan.moe.name(), "num_experts": plan.spec.num_experts, "topk": plan.spec.topk,
              "granularity": plan.spec.granularity, "router_order": plan.spec.router_order,
              "layout": plan.layout.name, "weight_scaling": plan.spec.weight_scaling,
              "activation_scale": activation_scale(plan.moe), "weight_factors": plan.factors,
              "aux_loss_alpha_per_layer": plan.spec.aux_loss_coeff,
              "router_aux_loss_coef": plan.target_config["router_aux_loss_coef"],
              "router_init_std": plan.router_std, "seed": plan.spec.seed, "dropped_keys": plan.dropped_keys}
    (folder / "upcycling.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    copied = []
    for pattern in SIDE_FILE_PATTERNS:
        for src in sorted(plan.dense_dir.glob(pattern)):
            if src.is_file():
                shutil.copy2(src, folder / src.name)
                copied.append(src.name)
    return copied


@contextlib.contextmanager
def staging_dir(out_dir: Path, overwrite: bool) -> Iterator[Path]:
    """A hidden folder beside ``out_dir`` that becomes ``out_dir`` only if the body finishes.

    With ``overwrite``, the old folder is moved aside first and deleted after the rename, so a crash
    leaves either the old or the new checkpoint under ``out_dir``, never a mix.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        yield tmp
        check_out_dir(out_dir, overwrite)  # it may have appeared while we were writing
        old = None
        if out_dir.is_dir():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
