"""``load_checkpoint(path)``: any WaveGlow checkpoint -> a model ready for inference.

Our files (repro.train checkpoints, or ``waveglow-convert`` output) carry their config, so the model is
built from it; official NVIDIA files are converted on the fly by ``convert.py``. Either way the result is
in eval mode with weight norm removed and the inference weights (inverse 1x1 convs) computed once.
``with_config=True`` also returns the config the file carries (its data section is what synthesis from
wavs needs), so callers never open the file a second time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, overload

import torch

from repro.train.checkpoint import FORMAT, CheckpointError, check_state_dict
from repro.train.config import ConfigError, from_dict
from waveglow.config import WaveGlowConfig, WaveGlowModelConfig
from waveglow.convert import convert_official, official_config
from waveglow.model import WaveGlow
from waveglow.official_pickle import load_restricted


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
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    obj = _read(path)
    full: WaveGlowConfig | None = None
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        saved, state = obj.get("config"), obj["model"]
        cfg = config or _saved_config(WaveGlowModelConfig, saved, path, section="model")
        if with_config and saved is not None:
            full = _saved_config(WaveGlowConfig, saved, path)
    else:
        found_cfg, state, _ = convert_official(path, obj)
        cfg = config or found_cfg
        full = official_config(found_cfg)
    model = WaveGlow(cfg)
    if not any(".parametrizations." in k for k in state):
        model.remove_weight_norm()  # saved from an inference model: plain weights
    check_state_dict(model, state, source=str(path))
    model.load_state_dict(state)
    model = model.to(device).prepare_for_inference()
    return (model, full) if with_config else model
