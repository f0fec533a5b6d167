"""Reading official NVIDIA WaveGlow checkpoints without their code and without running pickled code.

The official train.py saves ``{"model": <glow.WaveGlow object>, "iteration", "optimizer", "learning_rate"}``:
the whole module is pickled, so a plain ``torch.load`` needs the original ``glow`` module importable and,
with ``weights_only=False``, would run whatever the file asks for. Instead we load with PyTorch's restricted
``weights_only`` unpickler and allowlist exactly the class names such files contain, each mapped onto an
inert stand-in (``PickledRecord``) that only stores the pickled attribute dict. Nothing from the file is
called except PyTorch's own tensor-rebuilding functions; any other global in the file is refused by PyTorch
with the name of the offending class.

``flatten_module`` then walks the records' ``_modules`` / ``_parameters`` dicts into a flat, official-named
state dict (``WN.0.in_layers.1.weight_g`` ...), which ``convert.py`` maps onto our model key by key.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import Tensor


class PickledRecord:
    """Inert stand-in for one pickled object: remembers its original class name and attribute dict."""

    pickled_name = "?"
    dump_patches = False  # read by torch's legacy loader when a saved class source differs from ours

    def __repr__(self) -> str:
        return f"<pickled {self.pickled_name}>"


def _record_class(name: str) -> type:
    return type(f"Pickled[{name}]", (PickledRecord,), {"pickled_name": name})


def _no_backend() -> None:
    """Stand-in for torch 0.4's ``torch.nn.backends.thnn._get_thnn_function_backend`` (a module attribute)."""
    return None


# Every class a glow.WaveGlow pickle may name, from the repo's glow.py / glow_old.py and the torch versions
# it was trained with (0.4 to 2.x); weight-norm hooks are ``WeightNorm`` objects in ``_forward_pre_hooks``.
_CLASS_NAMES = [
    f"{module}.{cls}"
    for module in ("glow", "glow_old", "waveglow.glow", "__main__")
    for cls in ("WaveGlow", "WN", "Invertible1x1Conv")
] + [
    "torch.nn.modules.conv.Conv1d",
    "torch.nn.modules.conv.ConvTranspose1d",
    "torch.nn.modules.container.ModuleList",
    "torch.nn.utils.weight_norm.WeightNorm",
]
_RECORD_CLASSES = {name: _record_class(name) for name in _CLASS_NAMES}


@contextlib.contextmanager
def official_globals() -> Iterator[None]:
    """Allowlist the stand-ins (under the official names) for ``torch.load(weights_only=True)``."""
    allowed: list[Any] = [(cls, name) for name, cls in _RECORD_CLASSES.items()]
    allowed.append((_no_backend, "torch.nn.backends.thnn._get_thnn_function_backend"))
    allowed.append(set)
    with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
        # Legacy (pre-1.6) files carry each class's source; ours differs by design, so torch would warn.
        warnings.filterwarnings("ignore", category=torch.serialization.SourceChangeWarning)
        warnings.filterwarnings("ignore", message="Couldn't retrieve source code")
        yield


class _LegacyUnpickler(pickle.Unpickler):
    """For pre-1.6 (non-zip) files, which torch's weights_only unpickler cannot read: its persistent ids name
    module classes. ``find_class`` resolves only the tensor-rebuild functions, plain containers and the
    stand-ins, so the file still cannot call anything else."""

    _ALLOWED: ClassVar[dict[tuple[str, str], Any]] = {
        ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("__builtin__", "set"): set,  # protocol-2 pickles use the Python 2 module name
        ("torch.nn.backends.thnn", "_get_thnn_function_backend"): _no_backend,
    }

    def find_class(self, module: str, name: str) -> Any:
        found = self._ALLOWED.get((module, name)) or _RECORD_CLASSES.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: not part of an official WaveGlow checkpoint"
            )
        return found


class _LegacyPickleModule:
    """The two names torch.load uses from its ``pickle_module`` argument, both restricted."""

    Unpickler = _LegacyUnpickler
    __name__ = "waveglow_restricted_pickle"

    @staticmethod
    def load(f: Any, **kwargs: Any) -> Any:
        return _LegacyUnpickler(f, **kwargs).load()


def load_restricted(path: str | os.PathLike) -> Any:
    """Load an official or our checkpoint; no code named by the file runs beyond the allowlist.

    Zip files (torch >= 1.6, and all of ours) go through torch's own ``weights_only=True`` unpickler. Legacy
    files need ``weights_only=False``, which we pass only together with ``_LegacyPickleModule``, whose
    ``find_class`` allows the same short list; torch resolves storages itself before asking it.
    """
    with official_globals():
        if zipfile.is_zipfile(path):
            return torch.load(path, map_location="cpu", weights_only=True)
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_LegacyPickleModule)


def is_record(obj: Any, suffix: str = "") -> bool:
    return isinstance(obj, PickledRecord) and obj.pickled_name.endswith(suffix)


def flatten_module(record: PickledRecord, prefix: str = "") -> dict[str, Tensor]:
    """Flat state dict of a pickled module tree, as ``module.state_dict()`` would have produced it.

    Only ``_parameters`` and ``_buffers`` count: classic weight norm also leaves a computed ``weight`` tensor
    in the module's ``__dict__``, which may be stale (it is refreshed on each forward), so it is ignored.
    """
    state: dict[str, Tensor] = {}
    attrs = vars(record)
    for store in ("_parameters", "_buffers"):
        for name, value in (attrs.get(store) or {}).items():
            if isinstance(value, Tensor):
                state[prefix + name] = value.detach()
    for name, child in (attrs.get("_modules") or {}).items():
        if isinstance(child, PickledRecord):
            state.update(flatten_module(child, f"{prefix}{name}."))
    return state


def module_attr(record: PickledRecord, path: str, attr: str) -> Any:
    """An attribute of a submodule (``module_attr(root, "upsample", "stride")``), or None if absent."""
    node: Any = record
    for part in path.split(".") if path else []:
        node = (vars(node).get("_modules") or {}).get(part)
        if node is None:
            return None
    return vars(node).get(attr)
