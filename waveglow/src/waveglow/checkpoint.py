"""Reading any WaveGlow checkpoint: for synthesis (``load_checkpoint``) or to train on (``load_training_state``).

Our files (ninerepro.train checkpoints, or ``waveglow-convert`` output) carry their config, so the model is
built from it; official NVIDIA files (pickled ``glow.WaveGlow``, DLE ``{'state_dict'}``) are converted on the
fly by ``convert.py``. Wrapper prefixes (``module.``, ``module.1.``, ``_orig_mod.``) are removed first.

``load_checkpoint`` returns an eval-mode ``WaveGlow`` with weight norm removed (``model.infer(mel, sigma)``;
``model.for_inference()`` for the fastest repeated synthesis). ``load_training_state`` returns the weights
in the weight-normed form training uses, which is what ``train.py --init-from`` loads: fine-tuning the
published models starts exactly where they are, with weight norm re-applied (g = ||w||, v = w when the file
holds plain weights).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import torch
from torch import Tensor

from ninerepro.train.checkpoint import FORMAT, CheckpointError, check_state_dict
from ninerepro.train.config import ConfigError, from_dict
from waveglow.config import WaveGlowConfig, WaveGlowModelConfig
from waveglow.model import WaveGlow
from waveglow.official_format import convert_official, official_config
from waveglow.official_pickle import load_restricted
from waveglow.state_keys import strip_wrapper_prefixes, to_weight_norm


def _saved_config(cls: type, saved: Any, path: Path, section: str = "") -> Any:
    """``saved`` (or its ``section``) as dataclass ``cls``; a malformed config is a CheckpointError naming the file."""
    if section:
        saved = saved.get(section) if isinstance(saved, dict) else None
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: checkpoint has no saved config; pass config= (the run's config.json)")
    try:
        return from_dict(cls, saved, prefix=f"{section}." if section else "")
    except (ConfigError, ValueError) as e:
        raise CheckpointError(f"{path}: saved config is invalid: {e}") from None


def _read(path: Path) -> Any:
    try:
        return load_restricted(path)
    except Exception as e:
        raise CheckpointError(
            f"{path}: cannot be read ({type(e).__name__}: {str(e).splitlines()[0][:300]}); it is truncated, "
            "corrupted, or not a WaveGlow checkpoint"
        ) from None


@dataclass
class TrainingState:
    """A checkpoint's weights in training form, and what is known about where they came from."""

    model_config: WaveGlowModelConfig
    state: dict[str, Tensor]
    """our key names, weight norm as parametrizations (loads into ``WaveGlow(model_config)``)"""
    config: WaveGlowConfig | None
    """the full config saved in the file; for an official file, the official one (assumed data settings)"""
    kind: Literal["ours", "official"]
    iteration: int | None = None


def load_training_state(path: str | os.PathLike, config: WaveGlowModelConfig | None = None) -> TrainingState:
    """The weights of our or an official checkpoint, weight-normed, checked against ``config`` if given."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    obj = _read(path)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        saved, state = obj.get("config"), obj["model"]
        state = to_weight_norm(strip_wrapper_prefixes(state))
        cfg = config or _saved_config(WaveGlowModelConfig, saved, path, section="model")
        full = _saved_config(WaveGlowConfig, saved, path) if saved is not None else None
        loop = obj.get("loop") if isinstance(obj.get("loop"), dict) else {}
        result = TrainingState(cfg, state, full, "ours", loop.get("step"))
    else:
        found_cfg, state, info = convert_official(path, obj)
        result = TrainingState(config or found_cfg, state, official_config(found_cfg), "official",
                               info.get("iteration"))
    check_state_dict(WaveGlow(result.model_config), result.state, source=str(path))
    return result


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device; CUDA without a visible GPU is a ValueError with the fix."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} asked for CUDA but no GPU is visible; use device='cpu'")
    return device


@overload
def load_checkpoint(path: str | os.PathLike, config: WaveGlowModelConfig | None = None,
                    device: str | torch.device = "cpu", *, with_config: Literal[False] = False) -> WaveGlow: ...


@overload
def load_checkpoint(path: str | os.PathLike, config: WaveGlowModelConfig | None = None,
                    device: str | torch.device = "cpu", *,
                    with_config: Literal[True]) -> tuple[WaveGlow, WaveGlowConfig | None]: ...


def load_checkpoint(path: str | os.PathLike, config: WaveGlowModelConfig | None = None,
                    device: str | torch.device = "cpu", *,
                    with_config: bool = False) -> WaveGlow | tuple[WaveGlow, WaveGlowConfig | None]:
    """Our or an official WaveGlow checkpoint as an eval-mode model on ``device``, ready for ``infer``.

    ``config`` (optional) is the model config the caller expects; a checkpoint that does not fit it is a
    CheckpointError listing every mismatched key, instead of a silent reshape or a deep torch error.
    With ``with_config=True`` the result is ``(model, full config)``: the config saved in the file; for an
    official file, the one ``waveglow-convert`` would save (its shapes and the official data settings); None
    for one of ours saved without a config (loadable only with ``config=``). The file is read once.
    """
    device = resolve_device(device)
    found = load_training_state(path, config)
    model = WaveGlow(found.model_config)
    model.load_state_dict(found.state)
    model = model.to(device).prepare_for_inference()
    return (model, found.config) if with_config else model
