"""Audio/mel settings at synthesis time: overrides for checkpoints that carry none, and warnings on mismatch.

Official checkpoints store no audio settings; the published ones were trained at 22050 Hz with an 8 kHz
mel ceiling, which is what ``official_config`` assumes. A model trained elsewhere at 16 or 24 kHz (or
with another fmax) must be told, or its wavs get the wrong rate in their header and wav inputs get the
wrong mel. ``apply_overrides`` takes the settings from flags or from a JSON file (ours: the ``data`` section
of a config; the official ``config.json``: its ``data_config`` section; or a flat object), and
``differences`` lists what differs from what the checkpoint says it was trained with, for a warning.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from waveglow.config import WaveGlowDataConfig, WaveGlowModelConfig

AUDIO_KEYS = ("sampling_rate", "filter_length", "hop_length", "win_length", "mel_fmin", "mel_fmax", "max_wav_value")
"""the settings that shape the mel and the written wav (the training-only ones, batch and crops, are left out)"""


def read_settings_json(path: str | os.PathLike) -> dict[str, Any]:
    """The audio settings in a JSON file: ours (``data``), official config.json (``data_config``) or flat."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: data settings file not found") from None
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot be read as JSON ({e})") from None
    if isinstance(obj, dict):
        obj = obj.get("data_config", obj.get("data", obj))
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object of audio settings (keys such as sampling_rate, mel_fmax)")
    settings = {k: obj[k] for k in AUDIO_KEYS if k in obj}
    if not settings:
        raise ValueError(f"{path}: holds none of {', '.join(AUDIO_KEYS)}; "
                         "pass a config.json (data / data_config section) or a flat object of them")
    return settings


def apply_overrides(data: WaveGlowDataConfig, overrides: dict[str, Any], model: WaveGlowModelConfig,
                    source: str = "--data-config") -> WaveGlowDataConfig:
    """``data`` with ``overrides`` applied (None values ignored), checked against the model's upsampler."""
    unknown = sorted(set(overrides) - set(AUDIO_KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown audio setting(s) {unknown}; known: {', '.join(AUDIO_KEYS)}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    try:
        new = dataclasses.replace(data, **changes)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source}: {e}") from None
    if new.sampling_rate <= 0 or not 0 <= new.mel_fmin < new.mel_fmax <= new.sampling_rate / 2:
        raise ValueError(f"{source}: need sampling_rate > 0 and 0 <= mel_fmin < mel_fmax <= sampling_rate / 2, got "
                         f"{new.sampling_rate} Hz, fmin {new.mel_fmin}, fmax {new.mel_fmax}")
    if (new.filter_length, new.hop_length) != (model.upsample_kernel, model.upsample_stride):
        raise ValueError(
            f"{source}: filter_length/hop_length {new.filter_length}/{new.hop_length} do not match this model's "
            f"upsampler ({model.upsample_kernel}/{model.upsample_stride}); one mel frame must become hop_length "
            "samples, so only a model trained with that STFT can use it"
        )
    return new


def differences(trained: WaveGlowDataConfig, used: WaveGlowDataConfig) -> list[str]:
    """``key: trained -> used`` for every audio setting that differs."""
    return [f"{k}: {getattr(trained, k)} -> {getattr(used, k)}" for k in AUDIO_KEYS
            if getattr(trained, k) != getattr(used, k)]
