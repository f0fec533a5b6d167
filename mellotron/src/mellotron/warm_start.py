"""Warm start: copy weights from another checkpoint (ours, Mellotron's or Tacotron 2's official) except the
layers named in ``ignore_layers``, which keep their fresh initialisation.

This is how the official recipes change the speaker table (``ignore_layers=['speaker_embedding.weight']``) or
start Mellotron from a Tacotron 2 model (whose memory is narrower: every tensor whose shape differs is left out
and reported, rather than failing, because the point of a warm start is to take what fits).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from mellotron.checkpoint import read_file, strip_prefixes
from ninerepro.train.checkpoint import FORMAT, CheckpointError

log = logging.getLogger(__name__)


def warm_start(model: nn.Module, path: str | Path, ignore_layers: Sequence[str]) -> list[str]:
    """Load what fits from ``path`` into ``model``; returns the names taken. Unknown ignore names are errors."""
    data = read_file(path)
    state = data["model"] if data.get("format") == FORMAT else data.get("state_dict", data)
    state = strip_prefixes(state)
    own = model.state_dict()
    missing_names = [n for n in ignore_layers if n not in own]
    if missing_names:
        raise CheckpointError(f"warm_start.ignore_layers names {missing_names}, which this model does not have; "
                              f"e.g. 'speaker_embedding.weight'")
    taken, skipped = {}, []
    for name, tensor in state.items():
        if name in ignore_layers:
            continue
        if name in own and own[name].shape == tensor.shape:
            taken[name] = tensor
        else:
            skipped.append(name)
    if not taken:
        raise CheckpointError(f"{path}: no tensor fits this model; is it a Tacotron 2 / Mellotron checkpoint?")
    model.load_state_dict(taken, strict=False)
    log.info("warm start from %s: %d tensors taken, %d ignored, %d left out (absent or another shape: %s)",
             path, len(taken), len(ignore_layers), len(skipped), ", ".join(skipped[:6]))
    return sorted(taken)
