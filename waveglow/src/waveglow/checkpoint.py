"""``load_checkpoint(path)``: any WaveGlow checkpoint -> a model ready for inference.

Our files (repro.train checkpoints, or ``waveglow-convert`` output) carry their config, so the model is
built from it; official NVIDIA files are converted on the fly by ``convert.py``. Either way the result is
in eval mode with weight norm removed and the inference weights (inverse 1x1 convs) computed once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from repro.train.checkpoint import FORMAT, CheckpointError, check_state_dict
from repro.train.config import ConfigError, from_dict
from waveglow.config import WaveGlowModelConfig
from waveglow.convert import convert_official
from waveglow.model import WaveGlow
from waveglow.official_pickle import load_restricted


def _model_config(saved: Any, path: Path) -> WaveGlowModelConfig:
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict):
        raise CheckpointError(f"{path}: checkpoint has no saved config; pass config= (the run's config.json)")
    try:
        return from_dict(WaveGlowModelConfig, saved["model"], prefix="model.")
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


def load_checkpoint(path: str | os.PathLike, config: WaveGlowModelConfig | None = None,
                    device: str | torch.device = "cpu") -> WaveGlow:
    """Our or an official WaveGlow checkpoint as an eval-mode model on ``device``, ready for ``infer``.

    ``config`` (optional) is the model config the caller expects; a checkpoint that does not fit it is a
    CheckpointError listing every mismatched key, instead of a silent reshape or a deep torch error.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    obj = _read(path)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        cfg, state = config or _model_config(obj.get("config"), path), obj["model"]
    else:
        found_cfg, state, _ = convert_official(path)
        cfg = config or found_cfg
    model = WaveGlow(cfg)
    if not any(".parametrizations." in k for k in state):
        model.remove_weight_norm()  # saved from an inference model: plain weights
    check_state_dict(model, state, source=str(path))
    model.load_state_dict(state)
    return model.to(device).prepare_for_inference()
