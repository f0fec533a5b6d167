"""State-dict key conventions: wrapper prefixes, and our weight-norm names versus plain weights.

Checkpoints reach users through wrappers that prefix every key: DDP saves ``module.``, ``torch.compile``
saves ``_orig_mod.``, and an ``nn.Sequential`` of (denoiser or front end, WaveGlow) under DDP saves
``module.1.``. :func:`strip_wrapper_prefixes` removes any such prefix shared by all keys.

Our training model keeps weight norm as a parametrization: ``X.parametrizations.weight.original0`` (g) and
``original1`` (v); an inference model saves the folded ``X.weight``. :func:`to_weight_norm` turns the latter
back into the former (g = ||w||, v = w: the same function), so fine-tuning always starts weight-normed.
"""

from __future__ import annotations

import re

from torch import Tensor

WRAPPER_PREFIXES = ("module.1.", "module.", "_orig_mod.")
"""longest first: ``module.1.`` must be tried before ``module.``"""

_G, _V = ".parametrizations.weight.original0", ".parametrizations.weight.original1"
WEIGHT_NORMED_LAYER = re.compile(r"^WN\.\d+\.(start|cond_layer|in_layers\.\d+|res_skip_layers\.\d+)$")
"""the convs that glow.py (and ours) put under weight norm: all of WN's except ``end``"""


def strip_wrapper_prefixes(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``state`` with every wrapper prefix that all keys share removed (repeatedly: ``module._orig_mod.``)."""
    changed = True
    while changed and state:
        changed = False
        for prefix in WRAPPER_PREFIXES:
            if all(k.startswith(prefix) for k in state):
                state = {k[len(prefix) :]: v for k, v in state.items()}
                changed = True
                break
    return state


def norm_except_dim0(w: Tensor) -> Tensor:
    """||w|| over every dim but the first, shaped like torch's weight norm g ([out, 1, 1])."""
    return w.flatten(1).norm(dim=1).view(-1, *([1] * (w.dim() - 1)))


def is_weight_normed(state: dict[str, Tensor]) -> bool:
    return any(k.endswith(_G) for k in state)


def to_weight_norm(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Our plain (inference) state -> our weight-normed training state; weight-normed input is returned as is."""
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        layer = key[: -len(".weight")] if key.endswith(".weight") else None
        if layer is not None and WEIGHT_NORMED_LAYER.match(layer):
            out[layer + _G], out[layer + _V] = norm_except_dim0(value), value
        else:
            out[key] = value
    return out


def to_plain(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Our weight-normed state -> plain weights (w = g * v / ||v||), the inverse of :func:`to_weight_norm`."""
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.endswith(_G):
            continue
        if key.endswith(_V):
            layer = key[: -len(_V)]
            g = state[layer + _G]
            out[layer + ".weight"] = value * (g / norm_except_dim0(value))
        else:
            out[key] = value
    return out
