"""``waveglow-convert IN OUT [--to ours|official-state-dict]``: move WaveGlow weights between formats.

* ``--to ours`` (default): an official NVIDIA checkpoint (pickled ``glow.WaveGlow``, DLE ``{'state_dict'}``,
  old layouts; see ``official_format.py``) or one of ours -> our checkpoint format with its config, so
  ``load_checkpoint``, ``waveglow-infer`` and ``train.py --init-from`` read it without guessing.
* ``--to official-state-dict``: ours or official -> ``{'state_dict': ..., 'waveglow_config': ...}`` in glow.py's
  key names and shapes, the form NVIDIA DeepLearningExamples and ``glow.WaveGlow.load_state_dict`` take
  (``waveglow_config`` holds the constructor arguments, as config.json's section of that name).

Both write atomically; every problem is one ``error:`` line on stderr with exit status 2 (``--debug``: the
traceback instead).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import torch

from ninerepro.atomic import atomic_save
from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, CheckpointError, versions
from ninerepro.train.config import to_dict
from waveglow.checkpoint import TrainingState, load_training_state
from waveglow.config import WaveGlowModelConfig
from waveglow.official_format import convert_official, official_config, to_official_state_dict

__all__ = ["convert_main", "convert_official", "official_waveglow_config", "save_converted", "save_official"]
log = logging.getLogger(__name__)


def save_converted(cfg: WaveGlowModelConfig, state: dict[str, torch.Tensor], out: str | os.PathLike,
                   source: str, iteration: int | None, full_config: Any = None) -> Path:
    """Write our checkpoint format (model + full config), atomically."""
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "model": state,
               "config": to_dict(full_config if full_config is not None else official_config(cfg)),
               "converted_from": {"path": str(source), "iteration": iteration}}
    return atomic_save(out, lambda f: torch.save(payload, f))


def official_waveglow_config(cfg: WaveGlowModelConfig) -> dict[str, Any]:
    """glow.WaveGlow's constructor arguments (config.json's ``waveglow_config``) for ``cfg``."""
    return {"n_mel_channels": cfg.n_mel_channels, "n_flows": cfg.n_flows, "n_group": cfg.n_group,
            "n_early_every": cfg.n_early_every, "n_early_size": cfg.n_early_size,
            "WN_config": {"n_layers": cfg.wn.n_layers, "n_channels": cfg.wn.n_channels,
                          "kernel_size": cfg.wn.kernel_size}}


def save_official(found: TrainingState, out: str | os.PathLike) -> Path:
    """Write ``{'state_dict', 'waveglow_config'}`` in the official naming, atomically."""
    if (found.model_config.upsample_kernel, found.model_config.upsample_stride) != (1024, 256):
        log.warning("glow.py hard-codes the upsampler to kernel 1024 / stride 256; this model has %d / %d, so "
                    "the official class cannot load it unchanged", found.model_config.upsample_kernel,
                    found.model_config.upsample_stride)
    payload = {"state_dict": to_official_state_dict(found.state),
               "waveglow_config": official_waveglow_config(found.model_config)}
    if found.iteration is not None:
        payload["iteration"] = found.iteration
    return atomic_save(out, lambda f: torch.save(payload, f))


def one_line(error: BaseException) -> str:
    """An exception's message on one line (multi-line checkpoint reports joined with '; ')."""
    return "; ".join(part.strip() for part in str(error).splitlines() if part.strip())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="waveglow-convert", description=__doc__.split("\n\n")[0].strip("`"))
    parser.add_argument("input", type=Path, help="a WaveGlow checkpoint: official (e.g. "
                        "waveglow_256channels_universal_v5.pt), DLE {'state_dict'}, or ours")
    parser.add_argument("output", type=Path, help="where to write the converted file (.pt)")
    parser.add_argument("--to", choices=["ours", "official-state-dict"], default="ours",
                        help="target format (default ours)")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser.parse_args(argv)


def convert_main(argv: list[str] | None = None) -> int:
    """Convert; one ``error:`` line on stderr and exit status 2 for any bad input."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return _run(args)
    except (CheckpointError, ValueError, OSError) as e:
        if args.debug:
            raise
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.output.exists() and not args.force:
        raise ValueError(f"{args.output} exists; pass --force to overwrite it or choose another output path")
    if not args.output.parent.is_dir():
        raise ValueError(f"{args.output.parent}: output folder does not exist; create it first (mkdir -p)")
    if args.input.resolve() == args.output.resolve():
        raise ValueError(f"{args.input}: input and output are the same file; choose another output path")
    found = load_training_state(args.input)
    cfg = found.model_config
    if args.to == "official-state-dict":
        save_official(found, args.output)
    else:
        save_converted(cfg, found.state, args.output, str(args.input), found.iteration, found.config)
    n_params = sum(v.numel() for v in found.state.values())
    print(f"converted {args.input} ({found.kind}) -> {args.output} ({args.to}): {cfg.n_flows} flows, "
          f"group {cfg.n_group}, WN {cfg.wn.n_layers}x{cfg.wn.n_channels}, {n_params:,} stored numbers")
    return 0
