"""Official NVIDIA WaveGlow weights <-> our model: explicit key map, per-key shape checks, one report.

Reading is :func:`convert_official`; writing the official naming back (the ``{'state_dict'}`` that NVIDIA
DeepLearningExamples and glow.py's module load) is :func:`to_official_state_dict`. The command
``waveglow-convert`` (``convert.py``) uses both.

Accepted inputs (all read by ``official_pickle.load_restricted``, which runs no code from the file):

* the official train.py format: ``{"model": <pickled glow.WaveGlow with weight norm>, "iteration", ...}``,
  zip (torch >= 1.6) or legacy serialisation, or a bare pickled ``glow.WaveGlow``;
* a state dict in the official naming (``{"state_dict": ...}`` as NVIDIA DeepLearningExamples saves it;
  ``module.``, ``module.1.`` and ``_orig_mod.`` wrapper prefixes are stripped), with or without weight norm;
* the layouts that the official convert_model.py migrates: per-layer conditioning convs (``cond_layers``,
  before Aug 2019) and separate residual/skip convs (``res_layers`` + ``skip_layers``, before Nov 2018). The
  weight-normed convs are folded to plain weights, concatenated, and re-split into (g, v) exactly as
  convert_model.py does.

Hyperparameters come from the tensors' shapes (flow count, group size, early exits, WN sizes), so no config
file is needed; the upsampler stride is read from the pickled module (glow.py always uses 256).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ninerepro.train.checkpoint import CheckpointError
from waveglow.config import WaveGlowConfig, WaveGlowDataConfig, WaveGlowModelConfig, WNConfig
from waveglow.model import WaveGlow
from waveglow.official_pickle import flatten_module, is_record, load_restricted, module_attr
from waveglow.state_keys import WEIGHT_NORMED_LAYER, norm_except_dim0, strip_wrapper_prefixes, to_weight_norm

log = logging.getLogger(__name__)

def _plain_weight(state: dict[str, Tensor], layer: str) -> Tensor:
    """The effective weight of ``layer``: g * v / ||v|| under weight norm, else the stored weight."""
    if f"{layer}.weight_v" in state:
        v, g = state.pop(f"{layer}.weight_v"), state.pop(f"{layer}.weight_g")
        return v * (g / norm_except_dim0(v))
    return state.pop(f"{layer}.weight")


def _store_weight_normed(state: dict[str, Tensor], layer: str, w: Tensor, b: Tensor) -> None:
    """Re-split a plain weight into weight norm's (g = ||w||, v = w), as torch.nn.utils.weight_norm does."""
    state[f"{layer}.weight_g"], state[f"{layer}.weight_v"], state[f"{layer}.bias"] = norm_except_dim0(w), w, b


def _indices(state: dict[str, Tensor], pattern: str) -> list[int]:
    return sorted({int(m.group(1)) for k in state if (m := re.match(pattern, k))})


def migrate_legacy_layouts(state: dict[str, Tensor]) -> list[str]:
    """Fuse ``cond_layers`` and ``res_layers``/``skip_layers`` in place; returns what was migrated."""
    done = []
    for k in _indices(state, r"^WN\.(\d+)\."):
        wn = f"WN.{k}"
        cond = _indices(state, rf"^{wn}\.cond_layers\.(\d+)\.")
        if cond:
            parts = [(_plain_weight(state, f"{wn}.cond_layers.{i}"), state.pop(f"{wn}.cond_layers.{i}.bias"))
                     for i in cond]
            _store_weight_normed(state, f"{wn}.cond_layer", torch.cat([w for w, _ in parts]),
                                 torch.cat([b for _, b in parts]))
            done.append(f"{wn}: {len(cond)} per-layer conditioning convs fused into cond_layer")
        skips = _indices(state, rf"^{wn}\.skip_layers\.(\d+)\.")
        for i in skips:
            w, b = _plain_weight(state, f"{wn}.skip_layers.{i}"), state.pop(f"{wn}.skip_layers.{i}.bias")
            if i < len(skips) - 1:  # every layer but the last also has a residual conv, stacked first
                w = torch.cat([_plain_weight(state, f"{wn}.res_layers.{i}"), w])
                b = torch.cat([state.pop(f"{wn}.res_layers.{i}.bias"), b])
            _store_weight_normed(state, f"{wn}.res_skip_layers.{i}", w, b)
        if skips:
            done.append(f"{wn}: res_layers + skip_layers fused into res_skip_layers")
    return done


def _add_missing_weight_norm(state: dict[str, Tensor]) -> None:
    """A model saved after remove_weightnorm has plain weights where ours expects (g, v)."""
    for key in [k for k in state if k.endswith(".weight")]:
        layer = key[: -len(".weight")]
        if WEIGHT_NORMED_LAYER.match(layer):
            _store_weight_normed(state, layer, state.pop(key), state.pop(f"{layer}.bias"))


def read_official(path: str | os.PathLike, obj: Any = None) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Official-named flat state dict (weight-normed, fused layout) and facts about the file.

    ``obj`` is the file's content when the caller has already read it (``load_restricted``), so that a
    multi-gigabyte checkpoint is unpickled once.
    """
    if obj is None:
        try:
            obj = load_restricted(path)
        except Exception as e:  # truncated file, foreign pickle, refused global
            raise CheckpointError(f"{path}: cannot be read as a WaveGlow checkpoint "
                                  f"({type(e).__name__}: {str(e).splitlines()[0][:300]})") from None
    info: dict[str, Any] = {"stride": None}
    root = obj.get("model") if isinstance(obj, dict) else obj
    if is_record(root, "WaveGlow"):
        state = flatten_module(root)
        info["stride"] = module_attr(root, "upsample", "stride")
        info["iteration"] = obj.get("iteration") if isinstance(obj, dict) else None
    elif isinstance(obj, dict) and (isinstance(obj.get("state_dict"), dict)
                                    or any(str(k).endswith("upsample.weight") for k in obj)):
        raw = obj.get("state_dict", obj)
        state = strip_wrapper_prefixes({k: v for k, v in raw.items() if isinstance(v, Tensor)})
    else:
        found = sorted(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"{path}: not an official WaveGlow checkpoint (expected a pickled glow.WaveGlow under 'model' or a "
            f"WaveGlow state dict; found {found})"
        )
    info["migrated"] = migrate_legacy_layouts(state)
    _add_missing_weight_norm(state)
    return state, info


def infer_model_config(state: dict[str, Tensor], stride: int | None, source: str) -> WaveGlowModelConfig:
    """Read n_flows, n_group, early exits and WN sizes off the tensor shapes."""
    try:
        up = state["upsample.weight"]  # [n_mel, n_mel, kernel]
        flows = _indices(state, r"^convinv\.(\d+)\.")
        channels = [state[f"convinv.{k}.conv.weight"].shape[0] for k in flows]
        n_layers = len(_indices(state, r"^WN\.0\.in_layers\.(\d+)\."))
        in0 = state["WN.0.in_layers.0.weight_v"]  # [2C, C, kernel]
    except KeyError as e:
        raise CheckpointError(f"{source}: not a WaveGlow state (missing {e})") from None
    exits = [k for k in range(1, len(flows)) if channels[k] < channels[k - 1]]
    drops = {channels[k - 1] - channels[k] for k in exits}
    every = exits[0] if exits else len(flows)
    if len(drops) > 1 or exits != list(range(every, len(flows), every)):
        raise CheckpointError(f"{source}: flow channel counts {channels} do not follow a regular early-exit pattern")
    return WaveGlowModelConfig(
        n_mel_channels=up.shape[0], n_flows=len(flows), n_group=channels[0], n_early_every=every,
        n_early_size=drops.pop() if drops else 0,
        wn=WNConfig(n_layers=n_layers, n_channels=in0.shape[1], kernel_size=in0.shape[2]),
        upsample_kernel=up.shape[2], upsample_stride=int(stride[0]) if stride else 256,
    )


def _official_name(ours: str) -> tuple[str, Callable[[Tensor], Tensor]]:
    """Where our parameter lives in the official state dict, and how its tensor is reshaped."""
    m = re.match(r"^convinv\.(\d+)\.W$", ours)
    if m:
        return f"convinv.{m.group(1)}.conv.weight", lambda t: t[:, :, 0]  # [c, c, 1] -> [c, c]
    for ours_suffix, theirs_suffix in ((".parametrizations.weight.original0", ".weight_g"),
                                       (".parametrizations.weight.original1", ".weight_v")):
        if ours.endswith(ours_suffix):
            return ours[: -len(ours_suffix)] + theirs_suffix, lambda t: t
    return ours, lambda t: t


def map_official_state(state: dict[str, Tensor], model: WaveGlow, source: str) -> dict[str, Tensor]:
    """Our state dict from the official one; every missing, unexpected or mis-shaped key in one error."""
    out, used, missing, mismatched = {}, set(), [], []
    for ours, target in model.state_dict().items():
        theirs, reshape = _official_name(ours)
        if theirs not in state:
            missing.append(f"{ours} (official {theirs})")
            continue
        used.add(theirs)
        value = reshape(state[theirs]).to(target.dtype)
        if value.shape != target.shape:
            mismatched.append(f"{theirs}: {tuple(value.shape)} vs ours {tuple(target.shape)}")
            continue
        out[ours] = value.contiguous()
    unexpected = sorted(set(state) - used)
    if missing or unexpected or mismatched:
        lines = [f"{source}: the official weights do not fit the WaveGlow read off their shapes:"]
        for label, keys in (("shape mismatch", mismatched), ("missing", missing), ("unexpected", unexpected)):
            if keys:
                lines.append(f"  {label}: " + "; ".join(keys[:20]) + (" ..." if len(keys) > 20 else ""))
        raise CheckpointError("\n".join(lines))
    return out


def convert_official(path: str | os.PathLike,
                     obj: Any = None) -> tuple[WaveGlowModelConfig, dict[str, Tensor], dict[str, Any]]:
    """(model config, our weight-normed state dict, facts) for an official checkpoint file (``obj``: its
    content, when already read)."""
    state, info = read_official(path, obj)
    cfg = infer_model_config(state, info["stride"], str(path))
    model = WaveGlow(cfg)
    ours = map_official_state(state, model, str(path))
    for note in info["migrated"]:
        log.info("%s: %s", path, note)
    return cfg, ours, info


def official_config(cfg: WaveGlowModelConfig) -> WaveGlowConfig:
    """The full config an official model implies: its shapes, and the official data settings (official files
    carry no config; the STFT window and hop are the upsampler's kernel and stride, as in the official code)."""
    data = WaveGlowDataConfig(filter_length=cfg.upsample_kernel, hop_length=cfg.upsample_stride,
                              win_length=cfg.upsample_kernel)
    return WaveGlowConfig(model=cfg, data=data)


def to_official_state_dict(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Our weight-normed state dict -> glow.py's names and shapes (``weight_g``/``weight_v``, ``conv.weight``
    [c, c, 1]): what ``glow.WaveGlow(**config).load_state_dict`` accepts. Plain inference weights are
    re-split first (g = ||w||, v = w)."""
    out: dict[str, Tensor] = {}
    for ours, value in to_weight_norm(state).items():
        theirs, _ = _official_name(ours)
        out[theirs] = value.unsqueeze(-1).contiguous() if re.match(r"^convinv\.\d+\.W$", ours) else value.contiguous()
    return out
