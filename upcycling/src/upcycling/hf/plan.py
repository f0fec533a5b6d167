"""Everything the converter checks before it writes a byte: source family, MoE shape, tensors, output dir.

A conversion of a large model runs for minutes to hours; a refusal must come first, from config.json and
the safetensors headers alone, and name the file and the fix.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from upcycling.config import GluScaling, MoEConfig, RouterOrder
from upcycling.hf.experts import part_factors
from upcycling.hf.layouts import (
    ANY_MLP_KEY,
    DENSE_MLP_KEY,
    DROPPED_KEY,
    LAYOUT_SPECS,
    SOURCE_FAMILIES,
    Layout,
    MoESpec,
    choose_layout,
    moe_config,
)
from upcycling.hf.safetensors_io import SafetensorsCheckpoint
from upcycling.upcycle import check_moe_shape

log = logging.getLogger(__name__)


@dataclass
class ConversionPlan:
    """A validated conversion: the source, the MoE it becomes, and the per-projection factors."""

    dense_dir: Path
    out_dir: Path
    dense_config: dict
    spec: MoESpec
    moe: MoEConfig
    layout: Layout
    target_config: dict
    factors: dict[str, float]
    router_std: float
    checkpoint: SafetensorsCheckpoint
    dropped_keys: list[str] = field(default_factory=list)


def read_dense_config(dense_dir: Path) -> dict:
    path = dense_dir / "config.json"
    if not dense_dir.is_dir():
        raise FileNotFoundError(f"--dense {dense_dir}: no such folder (a save_pretrained() model folder)")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; --dense must be a Hugging Face model folder with config.json")
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from e
    family = cfg.get("model_type")
    if family == "nemotron":
        raise ValueError(f"{path}: Nemotron (LayerNorm1P, squared-ReLU) has no Hugging Face MoE twin; upcycle it "
                         f"into our format with `upcycle upcycle --dense {dense_dir} --out moe.pt --moe E8G1T2`")
    if family not in SOURCE_FAMILIES:
        raise ValueError(f"{path}: model_type {family!r} is not supported; the converter reads dense "
                         f"{', '.join(SOURCE_FAMILIES)} checkpoints")
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers"):
        if not isinstance(cfg.get(key), int) or cfg[key] < 1:
            raise ValueError(f"{path}: '{key}' must be a positive integer, got {cfg.get(key)!r}")
    if family == "qwen3" and (cfg.get("use_sliding_window") or "sliding_attention" in (cfg.get("layer_types") or [])):
        raise ValueError(f"{path}: sliding-window Qwen3 models are not supported (Qwen3-MoE has no per-layer "
                         "attention kinds); convert a full-attention Qwen3")
    for key in ("mlp_bias", "attention_bias"):
        if key == "attention_bias" and family == "qwen3":
            continue  # Qwen3-MoE has the same q/k/v/o biases
        if cfg.get(key):
            raise ValueError(f"{path}: {key}=true is not supported: neither Mixtral nor Qwen2-MoE has "
                             f"{'expert' if key == 'mlp_bias' else 'attention output'} biases")
    return cfg


def check_out_dir(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"--out {out_dir} is a file; pass a folder path")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {out_dir} exists and is not empty; pick a new folder or pass --overwrite")


def check_tensors(ckpt: SafetensorsCheckpoint, cfg: dict, source: Path) -> list[str]:
    """Every layer has gate/up/down of the configured shapes and no other MLP tensor; returns dropped keys."""
    h, f, n_layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    expected = {(L, p) for L in range(n_layers) for p in ("gate_proj", "up_proj", "down_proj")}
    dropped = []
    for key in ckpt.key_to_file:
        m = DENSE_MLP_KEY.match(key)
        if DROPPED_KEY.search(key):
            dropped.append(key)
        elif m:
            layer, part = int(m.group(1)), m.group(2)
            if (layer, part) not in expected:
                raise ValueError(f"{source}: tensor {key} belongs to no layer of num_hidden_layers={n_layers}")
            expected.discard((layer, part))
            want = [h, f] if part == "down_proj" else [f, h]
            shape, _ = ckpt.shape_and_dtype(key)
            if shape != want:
                raise ValueError(f"{source}: {key} has shape {shape}, config.json implies {want}")
        elif ANY_MLP_KEY.match(key):
            raise ValueError(f"{source}: MLP tensor {key} cannot be upcycled (only gate/up/down weights)")
    if expected:
        missing = [f"model.layers.{L}.mlp.{p}.weight" for L, p in sorted(expected)][:4]
        raise ValueError(f"{source}: dense MLP tensors missing, e.g. {missing}")
    if not cfg.get("tie_word_embeddings", False) and "lm_head.weight" not in ckpt.key_to_file:
        raise ValueError(f"{source}: no lm_head.weight although config.json has tie_word_embeddings=false")
    return dropped


def plan_conversion(
    dense_dir: str | os.PathLike, out_dir: str | os.PathLike, *, num_experts: int, topk: int,
    granularity: int = 1, router_order: RouterOrder = "softmax_topk", weight_scaling: bool = True,
    glu_scaling: GluScaling = "paper", aux_loss_coeff: float = 1e-2, layout: str = "auto", seed: int = 0,
    overwrite: bool = False,
) -> ConversionPlan:
    """Validate the request against the source; raises before anything is written."""
    dense_dir, out_dir = Path(dense_dir), Path(out_dir)
    cfg = read_dense_config(dense_dir)
    moe = MoEConfig(num_experts=num_experts, topk=topk, granularity=granularity, router_order=router_order,
                    aux_loss_coeff=aux_loss_coeff)
    check_moe_shape(cfg["intermediate_size"], moe)
    name = choose_layout(cfg["model_type"], router_order, granularity, layout)
    check_out_dir(out_dir, overwrite)
    if out_dir.resolve() == dense_dir.resolve():
        raise ValueError(f"--out {out_dir} is the --dense folder; write the MoE model to a new folder")
    ckpt = SafetensorsCheckpoint(dense_dir)
    dropped = check_tensors(ckpt, cfg, dense_dir)
    spec = MoESpec(num_experts, topk, granularity, router_order, name, weight_scaling, aux_loss_coeff, seed)
    return ConversionPlan(
        dense_dir=dense_dir, out_dir=out_dir, dense_config=cfg, spec=spec, moe=moe, layout=LAYOUT_SPECS[name],
        target_config=moe_config(cfg, spec), factors=part_factors(moe, weight_scaling, glu_scaling),
        router_std=float(cfg.get("initializer_range", 0.02)), checkpoint=ckpt, dropped_keys=dropped,
    )
