"""Reading checkpoints that pickle a whole ``nn.Module`` (official NVIDIA training files) without their code.

Official WaveGlow, Flowtron and Tacotron-family ``train.py`` scripts save ``{"model": <module object>, ...}``. A
plain ``torch.load`` of such a file needs the original classes importable and, with ``weights_only=False``, runs
whatever the file names. Here every class the caller allows (by its pickled ``module.Class`` name) is mapped onto
an inert ``PickledRecord`` that only keeps the attribute dict it is given; PyTorch's own restricted
``weights_only`` unpickler refuses any other global, naming it. ``flatten_module`` then walks the records'
``_parameters`` / ``_buffers`` / ``_modules`` into the state dict ``module.state_dict()`` would have produced.

Pre-1.6 (non-zip) files cannot go through the ``weights_only`` unpickler; for those ``torch.load`` is given a
pickle module whose ``find_class`` allows the same short list and nothing else.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor

# nn classes an official module tree may contain; callers add their own model classes
TORCH_MODULE_CLASSES = tuple(
    f"torch.nn.modules.{name}" for name in (
        "conv.Conv1d", "conv.ConvTranspose1d", "conv.Conv2d", "container.ModuleList", "container.Sequential",
        "linear.Linear", "rnn.LSTM", "rnn.GRU", "sparse.Embedding", "activation.Softmax", "activation.ReLU",
        "activation.Sigmoid", "activation.Tanh", "activation.LogSoftmax", "batchnorm.BatchNorm1d",
        "batchnorm.BatchNorm2d", "instancenorm.InstanceNorm1d", "dropout.Dropout", "loss.CTCLoss",
        "loss.BCEWithLogitsLoss"))


class PickledRecord:
    """Inert stand-in for one pickled object: its original class name and the attribute dict it was given."""

    pickled_name = "?"
    dump_patches = False  # read by torch's legacy loader when a saved class source differs from ours

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:  # (dict, slots) pairs from some classes
            self.__dict__.update(state[0] or {})

    def __repr__(self) -> str:
        return f"<pickled {self.pickled_name}>"


def _record_class(name: str) -> type:
    return type(f"Pickled[{name}]", (PickledRecord,), {"pickled_name": name})


class _Allowlist:
    def __init__(self, class_names: Iterable[str], functions: dict[str, Any] | None = None):
        self.records = {name: _record_class(name) for name in (*class_names, *TORCH_MODULE_CLASSES)}
        self.extra = dict(functions or {})
        self.functions: dict[tuple[str, str], Any] = {
            ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
            ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
            ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("builtins", "set"): set,
            ("__builtin__", "set"): set,  # protocol-2 pickles use the Python 2 module name
        }
        self.functions |= {tuple(name.rsplit(".", 1)): fn for name, fn in self.extra.items()}

    def find(self, module: str, name: str, what: str) -> Any:
        found = self.functions.get((module, name)) or self.records.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: not part of {what}")
        return found


@contextlib.contextmanager
def _allowed_globals(allow: _Allowlist) -> Iterator[None]:
    allowed: list[Any] = [(cls, name) for name, cls in allow.records.items()]
    allowed += [(fn, name) for name, fn in allow.extra.items()]
    allowed.append(set)
    with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.serialization.SourceChangeWarning)
        warnings.filterwarnings("ignore", message="Couldn't retrieve source code")
        yield


def load_with_records(path: str | os.PathLike, class_names: Iterable[str], what: str = "an official checkpoint",
                      functions: dict[str, Any] | None = None, restricted_pickle: bool = False) -> Any:
    """``torch.load`` of ``path`` where the listed pickled classes become ``PickledRecord`` objects.

    ``class_names`` are full pickled names (``"flowtron.Flowtron"``); torch.nn's own module classes are always
    allowed. ``functions`` maps further pickled names onto harmless stand-ins (e.g. a removed torch function an
    old file names). Anything else raises ``pickle.UnpicklingError`` naming the global (the file is not trusted).
    ``restricted_pickle`` reads zip files through the same allowlisting pickle module instead of torch's
    ``weights_only`` unpickler, which refuses some plain containers (a ``collections.defaultdict`` in
    PyTorch Lightning's loop state) and records built by ``REDUCE``."""
    allow = _Allowlist(class_names, functions)

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            return allow.find(module, name, what)

    class PickleModule:
        __name__ = "repro_restricted_pickle"

        @staticmethod
        def load(f: Any, **kwargs: Any) -> Any:
            return Unpickler(f, **kwargs).load()

    PickleModule.Unpickler = Unpickler  # type: ignore[attr-defined]
    with _allowed_globals(allow):
        if zipfile.is_zipfile(path) and not restricted_pickle:
            return torch.load(path, map_location="cpu", weights_only=True)
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=PickleModule)


def is_record(obj: Any, suffix: str = "") -> bool:
    return isinstance(obj, PickledRecord) and obj.pickled_name.endswith(suffix)


def flatten_module(record: PickledRecord, prefix: str = "") -> dict[str, Tensor]:
    """The flat state dict of a pickled module tree, as ``module.state_dict()`` would have produced it.

    Only ``_parameters`` and ``_buffers`` count (classic weight norm also leaves a computed, possibly stale
    ``weight`` in the module's ``__dict__``); ``None`` entries (absent running stats) are skipped."""
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


def strip_wrapper_prefixes(state: dict[str, Tensor], prefixes: tuple[str, ...] = ("module.", "_orig_mod.")
                           ) -> dict[str, Tensor]:
    """Drop the key prefixes DDP (``module.``) and ``torch.compile`` (``_orig_mod.``) add, in any nesting."""
    out = {}
    for key, value in state.items():
        changed = True
        while changed:
            changed = False
            for prefix in prefixes:
                if key.startswith(prefix):
                    key, changed = key[len(prefix):], True
        out[key] = value
    return out


__all__ = [
    "TORCH_MODULE_CLASSES",
    "PickledRecord",
    "flatten_module",
    "is_record",
    "load_with_records",
    "module_attr",
    "strip_wrapper_prefixes",
]
