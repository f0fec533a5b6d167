"""Tokenise text files into one memory-mapped token file plus a JSON meta (`upcycle prepare`).

Layout: ``<out>.bin`` holds the training tokens followed by the validation tokens as raw little-endian
uint16 (vocab ≤ 65,535) or uint32; ``<out>.json`` records dtype, vocabulary size, the split point and the
tokenizer. A document (one file) goes wholly to one split: every ``stride``-th document is held out, so
validation text is spread over the corpus yet never seen in training.

The embedded corpus is the running interpreter's standard library (``.py`` sources, docstrings included),
read over a sorted file list so every machine with the same Python version builds the same tokens.
"""

from __future__ import annotations

import json
import logging
import os
import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ninerepro.atomic import atomic_open, atomic_write_text

log = logging.getLogger(__name__)

BYTE_VOCAB = 256


def stdlib_files() -> list[str]:
    """The standard library's .py files in sorted order, without tests and installed packages."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "test", "tests", "idlelib", "__pycache__", "lib2to3"}
    files = [p for p in root.rglob("*.py") if not skip.intersection(p.relative_to(root).parts)]
    if not files:
        raise FileNotFoundError(f"no .py files under the standard library folder {root}")
    return [str(p) for p in sorted(files, key=lambda p: p.relative_to(root).as_posix())]


def list_text_files(text_dir: str, pattern: str = "*.txt") -> list[str]:
    files = sorted(str(p) for p in Path(text_dir).rglob(pattern) if p.is_file())
    if not files:
        raise FileNotFoundError(f"no files matching {pattern!r} under {text_dir}; pass --glob or --files")
    return files


def load_tokenizer(spec: str) -> tuple[Callable[[str], list[int]], int, int | None, str]:
    """(encode, vocab_size, end-of-document id or None, description) for 'byte' or a local HF tokenizer."""
    if spec == "byte":
        return (lambda text: list(text.encode("utf-8"))), BYTE_VOCAB, None, "byte"
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(
            f"tokenizer {spec!r} is neither 'byte' nor an existing local folder with tokenizer files"
        )
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    encode = lambda text: tok.encode(text, add_special_tokens=False)  # noqa: E731
    return encode, len(tok), tok.eos_token_id, f"hf:{path.resolve()}"


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}); convert it or drop it from --files") from None
    except OSError as e:
        raise FileNotFoundError(f"{path}: cannot be read ({e.strerror})") from None


def prepare_tokens(
    files: Sequence[str], out: str | os.PathLike, *, tokenizer: str = "byte", val_fraction: float = 0.01,
    max_bytes: int = 0,
) -> dict:
    """Tokenise ``files`` into ``out`` (+ ``out`` with .json) and return the meta dict."""
    if not 0.0 < val_fraction < 0.5:
        raise ValueError(f"--val-fraction must be in (0, 0.5), got {val_fraction}")
    encode, vocab, eod, desc = load_tokenizer(tokenizer)
    dtype = np.dtype("<u2") if vocab <= 65535 else np.dtype("<u4")  # little-endian on disk
    stride = max(2, round(1 / val_fraction))
    train, val, n_bytes, n_docs = [], [], 0, 0
    for i, path in enumerate(files):
        text = _read_text(path)
        ids = encode(text) + ([eod] if eod is not None else [])
        (val if i % stride == stride - 1 else train).append(np.asarray(ids, dtype=dtype))
        n_bytes += len(text.encode("utf-8"))
        n_docs += 1
        if max_bytes and n_bytes >= max_bytes:
            break
    if not val or not train:
        raise ValueError(f"{n_docs} document(s) are too few for a train/val split with stride {stride}; add files")
    train_arr, val_arr = np.concatenate(train), np.concatenate(val)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, "wb") as f:
        f.write(train_arr.tobytes())
        f.write(val_arr.tobytes())
    meta = {"format": "upcycling-tokens/1", "dtype": dtype.name, "vocab_size": vocab,
            "train_tokens": int(train_arr.size), "val_tokens": int(val_arr.size), "n_documents": n_docs,
            "val_stride": stride, "tokenizer": desc, "input_bytes": n_bytes}
    atomic_write_text(meta_path(out), json.dumps(meta, indent=2) + "\n")
    log.info("wrote %s: %d train + %d val tokens from %d documents", out, meta["train_tokens"],
             meta["val_tokens"], n_docs)
    return meta


def meta_path(token_file: str | os.PathLike) -> Path:
    return Path(token_file).with_suffix(".json")
