"""Checkpoints: atomic writes, retention, newest-valid lookup, and strict, reported weight loading.

Format (a dict, loadable with ``torch.load(weights_only=True)``)::

    {"format": "repro-checkpoint", "format_version": 1, "model": state_dict, "optimizer": ..., "scheduler": ...,
     "scaler": ..., "loop": {"step", "epoch", "batch_in_epoch"}, "sampler": ..., "rng": [per-rank states],
     "config": dict, "versions": {"torch", "ninerepro", "python"}}

Files are ``ckpt_<step>.pt`` in the run folder plus ``latest.txt`` naming the newest; both are written
through a temp file and ``os.replace``, so a crash mid-save leaves the previous checkpoint and pointer
intact. ``keep_last`` prunes older files only after the new one is complete.
"""

from __future__ import annotations

import logging
import os
import platform
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ninerepro import __version__
from ninerepro.atomic import atomic_save, atomic_write_text

log = logging.getLogger(__name__)
FORMAT = "repro-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt_(\d+)\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, foreign, or does not fit the model."""


def versions() -> dict[str, str]:
    return {"torch": str(torch.__version__), "ninerepro": __version__, "python": platform.python_version()}


def checkpoint_path(run_dir: str | os.PathLike, step: int) -> Path:
    return Path(run_dir) / f"ckpt_{step:09d}.pt"


def save_checkpoint(state: dict[str, Any], run_dir: str | os.PathLike, step: int, keep_last: int = 2) -> Path:
    """Write ``state`` atomically as the checkpoint of ``step``, point ``latest.txt`` at it, prune old ones."""
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), **state}
    path = checkpoint_path(run_dir, step)
    atomic_save(path, lambda f: torch.save(state, f))
    atomic_write_text(Path(run_dir) / "latest.txt", path.name + "\n")
    _prune(Path(run_dir), keep_last)
    return path


def _prune(run_dir: Path, keep_last: int) -> None:
    if keep_last <= 0:
        return
    for old in list_checkpoints(run_dir)[:-keep_last]:
        try:
            old.unlink()
        except OSError as e:  # a failed deletion must not fail training
            log.warning("could not delete old checkpoint %s: %s", old, e)


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Checkpoint files in ``run_dir``, oldest first (by step number)."""
    d = Path(run_dir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load one of our checkpoints safely (no pickled code), with clear errors for bad files."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, pickled module, random bytes, ...
        raise CheckpointError(
            f"checkpoint {p} cannot be read ({type(e).__name__}: {str(e).splitlines()[0][:200]}). "
            "It is truncated, corrupted or not a ninerepro checkpoint; official checkpoints go through the "
            "subproject's convert.py"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not a ninerepro checkpoint (no format marker); convert it with convert.py")
    return state


def find_latest_valid(run_dir: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint in ``run_dir`` that loads; unreadable newer files are skipped with a warning."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path)
        except CheckpointError as e:
            log.warning("skipping unreadable checkpoint: %s", e)
    return None


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Compare keys and shapes before loading; one error lists every mismatch and names the source."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or mismatched:
        lines = [f"{source} does not fit the model built from the config:"]
        if mismatched:
            lines.append("  shape mismatch: " + "; ".join(mismatched))
        if missing:
            lines.append(f"  missing in checkpoint: {_short_list(missing)}")
        if unexpected:
            lines.append(f"  unexpected in checkpoint: {_short_list(unexpected)}")
        lines.append("  fix: use the config the checkpoint was trained with (saved as config.json beside it)")
        raise CheckpointError("\n".join(lines))


def _short_list(keys: list[str], limit: int = 20) -> str:
    return ", ".join(keys[:limit]) + (f" ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def load_model_state(model: nn.Module, state: dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    check_state_dict(model, state, source)
    model.load_state_dict(state)
