"""Starting weights of a run: a dense checkpoint as is, upcycled into the configured MoE, or an MoE that
``upcycle upcycle`` already wrote.

Sources: our checkpoints (ninerepro format, written by ``train.py`` or ``upcycle upcycle``), which carry the
config they were trained with, or a Hugging Face folder that ``upcycling.hf.ours.load_hf`` reads (Llama,
Nemotron, Mixtral, Qwen2-MoE). The source's model shape is compared with the run's ``model`` section before
any tensor is used; a mismatch names both values.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import torch

from ninerepro.atomic import atomic_save
from ninerepro.train import load_checkpoint
from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, CheckpointError, versions
from ninerepro.train.config import from_dict
from upcycling.config import GPTConfig, MoEConfig
from upcycling.upcycle import upcycle_state_dict

log = logging.getLogger(__name__)

SOURCES_HELP = ("a checkpoint written by upcycling's train.py or `upcycle upcycle`, a Hugging Face model folder "
                "(Llama, Nemotron, Mixtral, Qwen2-MoE) or a Megatron-LM GPT save folder")


def read_checkpoint_configs(state: dict, source: str) -> tuple[GPTConfig, MoEConfig | None]:
    cfg = state.get("config")
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise ValueError(f"{source} carries no run config; it was not written by upcycling's train.py")
    model = from_dict(GPTConfig, cfg["model"], prefix="model.")
    moe = from_dict(MoEConfig, cfg["moe"], prefix="moe.") if cfg.get("moe") else None
    return model, moe


def read_source(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], GPTConfig, MoEConfig | None]:
    """Weights and configs of an upcycling source: one of our checkpoint files, an HF folder or a Megatron-LM
    save folder (``torch_dist`` or legacy)."""
    p = Path(path)
    if p.is_dir() and any((p / m).exists() for m in ("latest_checkpointed_iteration.txt", "metadata.json",
                                                     "mp_rank_00")):
        from upcycling.megatron.checkpoint import load

        return load(p)  # a Megatron-LM save folder or one of its iter_N folders
    if p.is_dir():
        from upcycling.hf.ours import load_hf

        return load_hf(p)
    try:
        state = load_checkpoint(p)
    except CheckpointError as e:
        reason = str(e)  # ninerepro's hint names a convert.py, which upcycling does not have: replace it
        for hint in (" It is truncated", "; convert it with", "; official checkpoints"):
            reason = reason.split(hint)[0]
        raise ValueError(f"{reason.rstrip('.')}; expected {SOURCES_HELP}") from None
    model, moe = read_checkpoint_configs(state, str(p))
    return state["model"], model, moe


def check_same_model(expected: GPTConfig, found: GPTConfig, source: str) -> None:
    diffs = [f"model.{f.name}: run {getattr(expected, f.name)!r} vs checkpoint {getattr(found, f.name)!r}"
             for f in dataclasses.fields(GPTConfig)
             if f.name not in ("dropout",) and getattr(expected, f.name) != getattr(found, f.name)]
    if diffs:
        raise ValueError(f"{source} was trained with another model shape: " + "; ".join(diffs)
                         + ". Use the checkpoint's config.json model section.")


def initial_state(path: str | os.PathLike, cfg: GPTConfig, moe: MoEConfig | None, *, weight_scaling: bool,
                  router_init_std: float, seed: int, glu_scaling: str = "paper") -> dict[str, torch.Tensor]:
    """Weights to start from: the dense source's (dense run), their upcycled MoE version, or an MoE source's
    own weights when its MoE layout is the run's (e.g. the output of ``upcycle upcycle``)."""
    sd, dense_cfg, source_moe = read_source(path)
    check_same_model(cfg, dense_cfg, str(path))
    if source_moe is not None:
        if moe is not None and dataclasses.asdict(moe) == dataclasses.asdict(source_moe):
            log.info("%s is already the run's MoE (%s); starting from its weights", path, moe.name())
            return sd
        want = "a dense model" if moe is None else f"moe={dataclasses.asdict(moe)}"
        raise ValueError(f"{path} is already an MoE ({source_moe.name()}, moe={dataclasses.asdict(source_moe)}) but "
                         f"the run asks for {want}; use its moe section, or upcycle from a dense run")
    if moe is None:
        return sd
    gen = torch.Generator().manual_seed(seed)
    return upcycle_state_dict(sd, cfg, moe, weight_scaling=weight_scaling, glu_scaling=glu_scaling,
                              router_init_std=router_init_std, generator=gen)


def upcycle_checkpoint_file(dense: str, out: str, notation: str, *, router_order: str, weight_scaling: bool,
                            seed: int = 0, glu_scaling: str = "paper", overwrite: bool = False) -> str:
    """`upcycle upcycle`: write the MoE version of a dense source as a ninerepro checkpoint that ``--init-from``
    takes (``train.py --init-from OUT`` with the same MoE section starts from it)."""
    target = Path(out)
    if target.is_dir():
        raise FileExistsError(f"--out {out} is a folder; pass a file path such as {target / 'moe.pt'}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"--out {out} exists; pick a new path or pass --overwrite to replace it")
    _, cfg, _ = read_source(dense)
    moe = MoEConfig.from_notation(notation, router_order=router_order)
    sd = initial_state(dense, cfg, moe, weight_scaling=weight_scaling, router_init_std=0.02, seed=seed,
                       glu_scaling=glu_scaling)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "model": sd,
               "config": {"model": dataclasses.asdict(cfg), "moe": dataclasses.asdict(moe)},
               "upcycled_from": str(dense)}
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(target, lambda f: torch.save(payload, f))
    n = sum(v.numel() for v in sd.values())
    return f"wrote {out}: {moe.name()} ({moe.num_experts} experts, {router_order}), {n / 1e6:.2f} M parameters"
