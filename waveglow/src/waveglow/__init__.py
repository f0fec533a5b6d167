"""WaveGlow: a flow-based vocoder that turns mel spectrograms into audio (Prenger et al., 2019).

The public API is imported lazily, so that ``import waveglow`` stays cheap for a tool that needs only one
part of the package (for example the data loader):

* ``WaveGlow``: the model (``forward(mel, audio)`` for training, ``infer(mel, sigma)`` for synthesis);
* ``load_checkpoint(path)``: our checkpoints or the official NVIDIA ones, ready for inference;
* ``WaveGlowConfig``: the configuration dataclass that ``configs/*.json`` load into;
* ``WaveGlowInference``: the synthesis-only form, ``model.for_inference()`` (weights precomputed once);
* ``Denoiser``: the official bias-spectrum denoiser (``Denoiser(model)(audio, 0.01)`` -> [B, 1, T]);
* ``remove_weightnorm(model)``: glow.py's helper (same as ``model.remove_weight_norm()``);
* ``load_training_state(path)``: a checkpoint's weights in training form (what ``--init-from`` loads).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "WaveGlow": "waveglow.model",
    "load_checkpoint": "waveglow.checkpoint",
    "WaveGlowConfig": "waveglow.config",
    "WaveGlowInference": "waveglow.inference_model",
    "Denoiser": "waveglow.denoiser",
    "remove_weightnorm": "waveglow.model",
    "load_training_state": "waveglow.checkpoint",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'waveglow' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
