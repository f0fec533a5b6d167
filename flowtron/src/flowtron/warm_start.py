"""Warm starts: the flow-by-flow recipe and fine-tuning on a new speaker table (official ``train.warmstart``).

The paper trains one flow until it attends, then a two-flow model warm-started from it; the LibriTTS model starts
from the LJSpeech one with a new speaker table. So a warm start copies the tensors whose names contain one of
``include_layers`` (official default: speaker, encoder, embedding; [] = every tensor the shapes allow), never the
``ignore_layers``, and drops the speaker embedding when the table size differs, as the official does. Any file
``flowtron.load_checkpoint`` reads works as the source (ours, published, official training checkpoints). The
optimizer, step and learning rate start fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from flowtron.checkpoint import read_checkpoint_file, state_and_config
from flowtron.model import Flowtron

log = logging.getLogger(__name__)


def warm_start(model: Flowtron, path: str, include_layers: Sequence[str] = (), ignore_layers: Sequence[str] = ()
               ) -> list[str]:
    """Copy matching tensors from ``path`` into ``model``; returns the names copied."""
    state, _ = state_and_config(read_checkpoint_file(path), {}, str(path))
    own = model.state_dict()
    chosen = {k: v for k, v in state.items()
              if k in own and (not include_layers or any(part in k for part in include_layers))
              and k not in ignore_layers}
    skipped = sorted(k for k, v in chosen.items() if tuple(v.shape) != tuple(own[k].shape))
    if skipped and skipped != ["speaker_embedding.weight"]:
        log.warning("warm start: shapes differ, left at their fresh init: %s", ", ".join(skipped))
    chosen = {k: v for k, v in chosen.items() if k not in skipped}
    if not chosen:
        raise ValueError(f"warm start from {path}: no tensor matches the model (include_layers={list(include_layers)})"
                         "; check warm_start.include_layers")
    with torch.no_grad():
        for k, v in chosen.items():
            own[k].copy_(v)
    log.info("warm start from %s: %d tensors copied", path, len(chosen))
    return sorted(chosen)


def freeze_all_but(model: Flowtron, finetune_layers: Sequence[str]) -> None:
    """Train only the named parameters (official ``finetune_layers``, e.g. a new speaker's embedding)."""
    names = dict(model.named_parameters())
    unknown = sorted(set(finetune_layers) - set(names))
    if unknown:
        raise ValueError(f"warm_start.finetune_layers: no parameter named {unknown}; names look like "
                         "'speaker_embedding.weight' or 'flows.1.ar_step.gate_layer.linear_layer.weight'")
    for name, p in names.items():
        p.requires_grad_(name in finetune_layers)


__all__ = ["freeze_all_but", "warm_start"]
