"""``flowtron.load_checkpoint``: a Flowtron from any file users have, ours or official.

* ours (``ninerepro.train`` format): the config is inside;
* the published ``flowtron_ljs.pt`` / ``flowtron_libritts.pt``: ``{'state_dict': ...}``;
* ``flowtron_libritts2p3k.pt`` and official training checkpoints ``{'model': <pickled Flowtron>, 'iteration',
  'optimizer', 'learning_rate'}``: the module is read through ``ninerepro.train.pickled_modules``, which maps the
  official class names onto inert records, so neither the official code nor any code in the file runs;
* a bare state dict, with ``module.`` (DDP) / ``_orig_mod.`` (torch.compile) prefixes removed.

Official files carry no config, but every model size is visible in the tensors (flows, widths, speakers, the
mixture prior, cumulative attention), so the config is read off them. ``config`` (the official ``model_config``
dict, a ``config.json`` path, or a dict holding ``model_config``) is checked against the tensors, and a
disagreement names each key, e.g. ``n_flows: config 3, checkpoint 2``. Only ``dummy_speaker_embedding`` cannot
be seen in a state dict and is taken from ``config`` (default false).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from flowtron.config import MODEL_KEYS, ModelConfig
from flowtron.model import Flowtron
from ninerepro.train.checkpoint import FORMAT, CheckpointError, check_state_dict
from ninerepro.train.config import ConfigError, from_dict
from ninerepro.train.pickled_modules import flatten_module, is_record, load_with_records, strip_wrapper_prefixes

OFFICIAL_CLASSES = tuple(f"{module}.{name}" for module in ("flowtron", "__main__") for name in (
    "Flowtron", "AR_Step", "AR_Back_Step", "Attention", "AttentionConditioningLayer", "ConvNorm", "LinearNorm",
    "DenseLayer", "Encoder", "MelEncoder", "GaussianMixture", "MaskedInstanceNorm1d"))


def read_config(config: dict[str, Any] | str | os.PathLike | None) -> dict[str, Any]:
    """Official-named model values from a ``model_config`` dict, a full config dict or a ``config.json``."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        path = Path(config)
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot read the config JSON ({exc}); pass the official config.json "
                                  "or a model_config dict") from None
    if "model_config" in config:
        config = config["model_config"]
    elif "model" in config and isinstance(config["model"], dict):
        config = config["model"]
    unknown = sorted(set(config) - MODEL_KEYS - {"_source"})
    if unknown:
        raise CheckpointError(f"config: unknown model key(s) {unknown}; the official model_config names are "
                              f"{', '.join(sorted(MODEL_KEYS))}")
    return {k: v for k, v in config.items() if k in MODEL_KEYS}


def config_from_state(state: dict[str, Tensor], source: str) -> dict[str, Any]:
    """Every model size the tensors show (official key names)."""
    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            raise CheckpointError(f"{source} holds no '{key}': not a Flowtron state dict")
        return tuple(state[key].shape)

    flows = sorted({int(k.split(".")[1]) for k in state if k.startswith("flows.")})
    if not flows:
        raise CheckpointError(f"{source} holds no 'flows.*' tensors: not a Flowtron state dict")
    first = "flows.0."
    n_hidden4, n_mel = shape(first + "attention_lstm.weight_ih_l0")
    values: dict[str, Any] = {
        "n_speakers": shape("speaker_embedding.weight")[0], "n_speaker_dim": shape("speaker_embedding.weight")[1],
        "n_text": shape("embedding.weight")[0], "n_text_dim": shape("embedding.weight")[1],
        "n_flows": len(flows), "n_mel_channels": n_mel, "n_hidden": n_hidden4 // 4,
        "n_attn_channels": shape(first + "attention_layer.query.linear_layer.weight")[0],
        "n_lstm_layers": len({k for k in state if k.startswith(first + "lstm.weight_ih_l")}),
        "use_gate_layer": any(".gate_layer." in k for k in state),
        "use_cumm_attention": any(".attn_cond_layer." in k for k in state),
    }
    if "gaussian_mixture.prob_layer.linear_layer.weight" in state:
        k, h = shape("gaussian_mixture.prob_layer.linear_layer.weight")
        values |= {"n_components": k, "mel_encoder_n_hidden": h,
                   "fixed_gaussian": "gaussian_mixture.mean" in state}
    else:
        values["n_components"] = 0
    return values


def merge_config(found: dict[str, Any], given: dict[str, Any], source: str) -> ModelConfig:
    """The tensors' sizes, checked against the user's config; every disagreement is named."""
    clashes = [f"{k}: config {given[k]!r}, checkpoint {v!r}" for k, v in found.items()
               if k in given and given[k] != v and not (k == "mel_encoder_n_hidden" and not found["n_components"])]
    if clashes:
        raise CheckpointError(f"{source} does not match the given config ({'; '.join(clashes)}); pass the config "
                              "the checkpoint was trained with, or none (sizes are read from the tensors)")
    try:
        return from_dict(ModelConfig, given | found)
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: {exc}") from None


def read_checkpoint_file(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    try:
        data = load_with_records(p, OFFICIAL_CLASSES, "an official Flowtron checkpoint")
    except Exception as exc:  # truncated, not a torch file, or a refused global (pickle.UnpicklingError)
        foreign = re.search(r"(?:GLOBAL|global) ([\w.]+)", str(exc))
        if foreign:
            raise CheckpointError(f"{p}: refusing to load global {foreign.group(1)} (the file names code that a "
                                  "Flowtron checkpoint does not contain; it is not loaded)") from None
        raise CheckpointError(f"{p} cannot be read as a checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{p} holds a {type(data).__name__}, not a checkpoint dict")
    return data


def state_and_config(data: dict[str, Any], given: dict[str, Any], source: str) -> tuple[dict[str, Tensor],
                                                                                           ModelConfig]:
    if data.get("format") == FORMAT:
        saved = dict((data.get("config") or {}).get("model", {}))
        state = data["model"]
        found = config_from_state(state, source)
        return state, merge_config(found, {**saved, **given}, source)
    if "state_dict" in data:
        state = data["state_dict"]
    elif is_record(data.get("model"), "Flowtron"):
        record = data["model"]
        state = flatten_module(record)
        if "dummy_speaker_embedding" in vars(record):
            given = {"dummy_speaker_embedding": bool(vars(record)["dummy_speaker_embedding"])} | given
    elif isinstance(data.get("model"), dict):
        state = data["model"]
    else:
        state = data
    if not state or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{source}: no Flowtron weights found (top-level keys: {sorted(map(str, data))[:8]}); "
                              "expected ours, {'state_dict': ...} or an official {'model': ...} training file")
    state = strip_wrapper_prefixes(state)
    return state, merge_config(config_from_state(state, source), given, source)


def load_checkpoint(path: str | os.PathLike, config: dict[str, Any] | str | os.PathLike | None = None,
                    device: str | torch.device = "cpu") -> Flowtron:
    """A Flowtron in eval mode from our checkpoint or any official format (see the module docstring)."""
    return model_from_checkpoint(read_checkpoint_file(path), str(path), config, device)


def model_from_checkpoint(data: dict[str, Any], source: str,
                          config: dict[str, Any] | str | os.PathLike | None = None,
                          device: str | torch.device = "cpu") -> Flowtron:
    """``load_checkpoint`` on a file already read by ``read_checkpoint_file``: a caller that also needs the
    file's speaker table or data settings (the synthesis CLI) unpickles it once, not once per question."""
    state, cfg = state_and_config(data, read_config(config), source)
    model = Flowtron(cfg)
    check_state_dict(model, state, source)
    model.load_state_dict(state)
    return model.to(device).eval()


def config_dict(model: Flowtron) -> dict[str, Any]:
    return dataclasses.asdict(model.cfg)


__all__ = ["OFFICIAL_CLASSES", "config_from_state", "load_checkpoint", "read_checkpoint_file", "read_config",
           "state_and_config"]
