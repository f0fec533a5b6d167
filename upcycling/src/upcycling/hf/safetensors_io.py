"""Streaming safetensors I/O: read a (sharded) checkpoint one tensor at a time, write size-capped shards.

Why streaming: a dense 70B checkpoint is ~140 GB and its 8-expert upcycle several times that. The
converter therefore never holds more than one output shard (plus the one source tensor being expanded) in
memory: source tensors are read lazily with ``safe_open`` (memory-mapped, copied out one at a time), and
output tensors go into a buffer that is written to disk whenever adding the next tensor would pass
``max_shard_bytes``. The file names and the ``model.safetensors.index.json`` written at the end follow the
layout ``transformers`` itself writes (``model-00001-of-00003.safetensors``, ``{"metadata": {"total_size":
...}, "weight_map": {key: file}}``), so ``from_pretrained`` reads the result unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import safe_open

log = logging.getLogger(__name__)

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*$", re.IGNORECASE)
_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2"}
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str | int) -> int:
    """'5GB' → 5·10⁹ bytes, '200MiB' → 200·2²⁰, an int passes through (the ``max_shard_size`` of HF)."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"shard size {text!r} is not a size like 5GB, 500MB or 200MiB")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])


class SafetensorsCheckpoint:
    """Lazy view of the weights in a Hugging Face model folder: which key lives in which file.

    Accepts the two layouts ``save_pretrained`` writes: one ``model.safetensors``, or shards listed in
    ``model.safetensors.index.json`` (the single file wins when both exist, as in
    ``from_pretrained``). Nothing but the headers is read on construction.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        index = self.root / INDEX_NAME
        single = self.root / SINGLE_NAME
        if single.is_file():  # transformers looks for the single file first, so a stale index is ignored
            with safe_open(single, framework="pt") as f:
                self.key_to_file = dict.fromkeys(f.keys(), SINGLE_NAME)
        elif index.is_file():
            self.key_to_file = _read_index(index)
        else:
            raise FileNotFoundError(
                f"{self.root}: no {SINGLE_NAME} or {INDEX_NAME}; the converter reads safetensors checkpoints "
                "only (re-save a .bin checkpoint with `model.save_pretrained(dir, safe_serialization=True)`)"
            )
        for name in self.files:
            if not (self.root / name).is_file():
                raise FileNotFoundError(f"{index}: lists shard {name}, which is missing from {self.root}")

    @property
    def files(self) -> list[str]:
        """Shard file names in first-appearance order of the index."""
        return list(dict.fromkeys(self.key_to_file.values()))

    def keys_in(self, name: str) -> list[str]:
        return [k for k, f in self.key_to_file.items() if f == name]

    def shape_and_dtype(self, key: str) -> tuple[list[int], str]:
        """Shape and safetensors dtype name of one tensor, from the file header only."""
        with safe_open(self.root / self.key_to_file[key], framework="pt") as f:
            sl = f.get_slice(key)
            return list(sl.get_shape()), sl.get_dtype()

    def iter_tensors(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield (key, tensor) one at a time, shard after shard; only the current tensor is materialised."""
        for name in self.files:
            with safe_open(self.root / name, framework="pt") as f:
                for key in self.keys_in(name):
                    yield key, f.get_tensor(key)


def _read_index(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        weight_map = data["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a safetensors index (need a JSON object with 'weight_map'): {e}") from e
    if not isinstance(weight_map, dict) or not weight_map:
        raise ValueError(f"{path}: 'weight_map' must be a non-empty object of key → shard file")
    return {str(k): str(v) for k, v in weight_map.items()}


class ShardedWriter:
    """Collect tensors into size-capped safetensors shards inside ``out_dir``; ``finish`` writes the index.

    A tensor larger than the cap gets a shard of its own (as in ``transformers``). Shards are first written
    under provisional names because their count is known only at the end; ``finish`` renames them to
    ``model-0000i-of-0000n.safetensors`` (or ``model.safetensors`` when there is just one).
    """

    def __init__(self, out_dir: str | os.PathLike, max_shard_bytes: int) -> None:
        if max_shard_bytes < 1:
            raise ValueError(f"max shard size must be positive, got {max_shard_bytes}")
        self.out_dir = Path(out_dir)
        self.max_shard_bytes = max_shard_bytes
        self._buffer: dict[str, torch.Tensor] = {}
        self._buffer_bytes = 0
        self._written: list[tuple[str, list[str]]] = []  # (provisional file name, keys)
        self.total_bytes = 0
        self.total_params = 0

    def add(self, key: str, tensor: torch.Tensor) -> None:
        if key in self._buffer or any(key in keys for _, keys in self._written):
            raise ValueError(f"tensor {key!r} written twice")
        nbytes = tensor.numel() * tensor.element_size()
        if self._buffer and self._buffer_bytes + nbytes > self.max_shard_bytes:
            self.flush()
        self._buffer[key] = tensor.contiguous()
        self._buffer_bytes += nbytes
        self.total_bytes += nbytes
        self.total_params += tensor.numel()

    def flush(self) -> None:
        if not self._buffer:
            return
        name = f"part-{len(self._written):05d}.safetensors"
        write_safetensors(self.out_dir / name, self._buffer, metadata={"format": "pt"})
        self._written.append((name, list(self._buffer)))
        log.debug("wrote %s (%d tensors, %.1f MB)", name, len(self._buffer), self._buffer_bytes / 1e6)
        self._buffer, self._buffer_bytes = {}, 0

    def finish(self) -> list[str]:
        """Flush, give the shards their final names, write the index; returns the shard file names."""
        self.flush()
        n = len(self._written)
        if n == 0:
            raise ValueError("no tensors were written")
        finals = [SINGLE_NAME] if n == 1 else [f"model-{i + 1:05d}-of-{n:05d}.safetensors" for i in range(n)]
        weight_map: dict[str, str] = {}
        for (tmp, keys), final in zip(self._written, finals, strict=True):
            os.replace(self.out_dir / tmp, self.out_dir / final)
            weight_map.update({k: final for k in keys})
        if n > 1:
            index = {"metadata": {"total_size": self.total_bytes, "total_parameters": self.total_params},
                     "weight_map": dict(sorted(weight_map.items()))}
            (self.out_dir / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
        return finals


def write_safetensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write the safetensors format from the tensors' own memory (no serialised copy of the whole shard).

    ``safetensors.torch.save_file`` first turns every tensor into a ``bytes`` object, which doubles the
    memory of a shard; here the header is built from shapes alone and each tensor's bytes are written
    from a zero-copy view. Format: u64 little-endian header length, JSON header (space-padded to a multiple
    of 8) mapping each key to dtype, shape and [begin, end) byte offsets, then the raw data.
    """
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for key, t in tensors.items():
        if t.dtype not in _DTYPES:
            raise ValueError(f"tensor {key!r} has dtype {t.dtype}, which safetensors cannot store")
        nbytes = t.numel() * t.element_size()
        header[key] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        for t in tensors.values():
            if t.numel():
                f.write(memoryview(t.contiguous().reshape(-1).view(torch.uint8).numpy()))
