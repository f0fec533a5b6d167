"""Starting weights of a run: a dense checkpoint as is, or upcycled into the configured MoE.

Our checkpoints (repro format) carry the config they were trained with, so the dense model's shape is
read from the file and compared with the run's ``model`` section before any tensor is used; a mismatch
names both values.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import torch

from repro.atomic import atomic_save
from repro.train import load_checkpoint
from repro.train.config import from_dict
from upcycling.config import GPTConfig, MoEConfig
from upcycling.upcycle import upcycle_state_dict

log = logging.getLogger(__name__)


def read_checkpoint_configs(state: dict, source: str) -> tuple[GPTConfig, MoEConfig | None]:
    cfg = state.get("config")
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise ValueError(f"{source} carries no run config; it was not written by upcycling's train.py")
    model = from_dict(GPTConfig, cfg["model"], prefix="model.")
    moe = from_dict(MoEConfig, cfg["moe"], prefix="moe.") if cfg.get("moe") else None
    return model, moe


def check_same_model(expected: GPTConfig, found: GPTConfig, source: str) -> None:
    diffs = [f"model.{f.name}: run {getattr(expected, f.name)!r} vs checkpoint {getattr(found, f.name)!r}"
             for f in dataclasses.fields(GPTConfig)
             if f.name not in ("dropout",) and getattr(expected, f.name) != getattr(found, f.name)]
    if diffs:
        raise ValueError(f"{source} was trained with another model shape: " + "; ".join(diffs)
                         + ". Use the checkpoint's config.json model section.")


def initial_state(path: str | os.PathLike, cfg: GPTConfig, moe: MoEConfig | None, *, weight_scaling: bool,
                  router_init_std: float, seed: int, glu_scaling: str = "paper") -> dict[str, torch.Tensor]:
    """Weights to start from: the dense checkpoint's (dense run) or their upcycled MoE version."""
    state = load_checkpoint(path)
    dense_cfg, dense_moe = read_checkpoint_configs(state, str(path))
    if dense_moe is not None:
        raise ValueError(f"--init-from {path} is already an MoE ({dense_moe.name()}); upcycle from a dense run")
    check_same_model(cfg, dense_cfg, str(path))
    if moe is None:
        return state["model"]
    gen = torch.Generator().manual_seed(seed)
    return upcycle_state_dict(state["model"], cfg, moe, weight_scaling=weight_scaling, glu_scaling=glu_scaling,
                              router_init_std=router_init_std, generator=gen)


def upcycle_checkpoint_file(dense: str, out: str, notation: str, *, router_order: str, weight_scaling: bool,
                            seed: int = 0, glu_scaling: str = "paper") -> str:
    """`upcycle upcycle`: write {"model", "config"} for the MoE version of a dense checkpoint."""
    state = load_checkpoint(dense)
    cfg, _ = read_checkpoint_configs(state, dense)
    moe = MoEConfig.from_notation(notation, router_order=router_order)
    sd = initial_state(dense, cfg, moe, weight_scaling=weight_scaling, router_init_std=0.02, seed=seed,
                       glu_scaling=glu_scaling)
    payload = {"model": sd, "config": {"model": dataclasses.asdict(cfg), "moe": dataclasses.asdict(moe)}}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_save(out, lambda f: torch.save(payload, f))
    n = sum(v.numel() for v in sd.values())
    return f"wrote {out}: {moe.name()} ({moe.num_experts} experts, {router_order}), {n / 1e6:.2f} M parameters"
