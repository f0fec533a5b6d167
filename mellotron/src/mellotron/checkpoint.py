"""Load a Mellotron from any of the files users have: ours, an official training checkpoint, the published one.

* ours (``ninerepro.train`` format): the config is inside;
* official training checkpoints ``{'state_dict', 'optimizer', 'learning_rate', 'iteration'}`` and the published
  ``mellotron_libritts.pt`` (read through ``['state_dict']``): they carry no config, so the official defaults
  are used, with the symbol and speaker table sizes read off the tensors; ``hparams`` (a dict or a JSON file with
  the official ``hparams.py`` key names) overrides them for files trained with other sizes.

Files are read with ``weights_only=True``: no code inside a checkpoint runs. ``module.`` (DDP) and
``_orig_mod.`` (torch.compile) prefixes are removed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch

from mellotron.config import MODEL_KEYS, OFFICIAL_NON_MODEL_KEYS, MellotronModelConfig
from mellotron.model import Mellotron
from ninerepro.train.checkpoint import FORMAT, CheckpointError, check_state_dict
from ninerepro.train.config import from_dict

PREFIXES = ("module.", "_orig_mod.")


def read_hparams(hparams: dict[str, Any] | str | os.PathLike | None) -> dict[str, Any]:
    """Official-named model values from a dict or JSON file; unknown names are an error naming them."""
    if hparams is None:
        return {}
    if not isinstance(hparams, dict):
        path = Path(hparams)
        try:
            hparams = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot read hparams JSON ({exc}); pass a dict or a JSON object of "
                                  "hparams.py names, e.g. {\"n_speakers\": 123}") from None
    unknown = sorted(set(hparams) - MODEL_KEYS - OFFICIAL_NON_MODEL_KEYS - {"_source"})
    if unknown:
        raise CheckpointError(f"hparams: unknown key(s) {unknown}; use the names of the official hparams.py "
                              f"(model keys: {', '.join(sorted(MODEL_KEYS))})")
    return {k: v for k, v in hparams.items() if k in MODEL_KEYS}


def strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for prefix in PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def config_from_tensors(state: dict[str, torch.Tensor], given: dict[str, Any], source: str) -> MellotronModelConfig:
    """Official defaults, then the table sizes the tensors show, then the user's hparams (which must agree)."""
    shapes = {"n_symbols": ("embedding.weight", 0), "symbols_embedding_dim": ("embedding.weight", 1),
              "n_speakers": ("speaker_embedding.weight", 0), "speaker_embedding_dim": ("speaker_embedding.weight", 1)}
    values: dict[str, Any] = {}
    for name, (key, dim) in shapes.items():
        if key not in state:
            raise CheckpointError(f"{source} holds no '{key}': not a Mellotron state dict")
        found = int(state[key].shape[dim])
        if name in given and int(given[name]) != found:
            raise CheckpointError(f"{source} has {name}={found} but hparams say {given[name]}: use the hparams the "
                                  f"checkpoint was trained with (or warm-start with ignore_layers to change "
                                  f"{name})")
        values[name] = found
    values["encoder_embedding_dim"] = values["symbols_embedding_dim"]
    values["with_gst"] = any(k.startswith("gst.") for k in state)
    values |= given
    try:
        return from_dict(MellotronModelConfig, values)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: {exc}") from None


def read_file(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    try:
        data = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, pickled code, not a torch file
        raise CheckpointError(f"{p} cannot be read as a checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:160]}); expected ours or an official "
                              "{'state_dict': ...} file") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{p} holds a {type(data).__name__}, not a checkpoint dict")
    return data


def load_checkpoint(path: str | os.PathLike, hparams: dict[str, Any] | str | os.PathLike | None = None,
                    device: str | torch.device = "cpu") -> Mellotron:
    """A Mellotron in eval mode, from our checkpoint or an official one (see the module docstring)."""
    data = read_file(path)
    given = read_hparams(hparams)
    if data.get("format") == FORMAT:
        saved = dict((data.get("config") or {}).get("model", {}))
        cfg = from_dict(MellotronModelConfig, saved | given)
        state = data["model"]
    else:
        state = data.get("state_dict", data)
        if not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{path}: no state dict found (keys: {sorted(data)[:8]}); expected ours or an "
                                  "official {'state_dict': ...} file")
        state = strip_prefixes(state)
        cfg = config_from_tensors(state, given, str(path))
    model = Mellotron(cfg)
    check_state_dict(model, state, str(path))
    model.load_state_dict(state)
    return model.to(device).eval()


def config_dict(model: Mellotron) -> dict[str, Any]:
    return dataclasses.asdict(model.cfg)
