"""Reading official NVIDIA WaveGlow checkpoints without their code and without running pickled code.

The official train.py saves ``{"model": <glow.WaveGlow object>, "iteration", "optimizer", "learning_rate"}``:
the whole module is pickled, so a plain ``torch.load`` needs the original ``glow`` module importable and,
with ``weights_only=False``, would run whatever the file asks for. Instead we load with PyTorch's restricted
``weights_only`` unpickler and allowlist exactly the class names such files contain, each mapped onto an
inert stand-in (``ninerepro.train.pickled_modules.PickledRecord``) that only stores the pickled attribute dict.
Nothing from the file is called except PyTorch's own tensor-rebuilding functions; any other global in the file
is refused by PyTorch with the name of the offending class.

``flatten_module`` then walks the records' ``_modules`` / ``_parameters`` dicts into a flat, official-named
state dict (``WN.0.in_layers.1.weight_g`` ...), which ``convert.py`` maps onto our model key by key.
"""

from __future__ import annotations

import os
from typing import Any

from ninerepro.train.pickled_modules import PickledRecord, flatten_module, is_record, load_with_records, module_attr


def _no_backend() -> None:
    """Stand-in for torch 0.4's ``torch.nn.backends.thnn._get_thnn_function_backend`` (a module attribute)."""
    return None


# Every class a glow.WaveGlow pickle may name, from the repo's glow.py / glow_old.py and the torch versions
# it was trained with (0.4 to 2.x); weight-norm hooks are ``WeightNorm`` objects in ``_forward_pre_hooks``.
_CLASS_NAMES = [
    f"{module}.{cls}"
    for module in ("glow", "glow_old", "waveglow.glow", "__main__")
    for cls in ("WaveGlow", "WN", "Invertible1x1Conv")
] + ["torch.nn.utils.weight_norm.WeightNorm"]
_FUNCTIONS = {"torch.nn.backends.thnn._get_thnn_function_backend": _no_backend}


def load_restricted(path: str | os.PathLike) -> Any:
    """Load an official or our checkpoint; no code named by the file runs beyond the allowlist (zip files through
    torch's ``weights_only`` unpickler, legacy pre-1.6 files through a pickle module with the same allowlist)."""
    return load_with_records(path, _CLASS_NAMES, "an official WaveGlow checkpoint", _FUNCTIONS)


__all__ = ["PickledRecord", "flatten_module", "is_record", "load_restricted", "module_attr"]
