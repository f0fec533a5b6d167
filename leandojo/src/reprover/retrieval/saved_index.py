"""The premise index on disk: the corpus embedded once (``reprover index``), reused by every command and worker.

ReProver's ``retrieval/index.py`` pickles ``IndexedCorpus(corpus, embeddings)`` and every prover actor
unpickles its own fp32 copy (≈1 GB for 180k premises). We write a folder instead:

- ``embeddings.npy``: float32 [num_premises, H], rows in corpus order (unit-norm, as the retriever makes them);
- ``index.json``: what it was built from (corpus fingerprint, premise count, retriever, max length, shape).

It is opened as a read-only memory map, so all processes on a machine share one copy through the page cache,
and searched in place (:class:`~reprover.retrieval.index.PremiseIndex` with ``backend="numpy"``). Opening it
with another corpus, or a corpus whose premises changed, is refused with the command that rebuilds it.
The folder is written beside its destination and renamed into place, so a killed run leaves no half index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reprover.data.corpus import Corpus

FORMAT = "reprover-premise-index/1"


class IndexMismatchError(ValueError):
    """A saved index does not belong to the corpus (or retriever) it is used with."""


def corpus_fingerprint(corpus: Corpus) -> str:
    """sha256 over every premise's (path, full_name, start, end, code), in corpus order."""
    h = hashlib.sha256()
    for p in corpus.premises:
        h.update(f"{p.path}\0{p.full_name}\0{tuple(p.start)}\0{tuple(p.end)}\0{p.code}\n".encode())
    return h.hexdigest()


def save_index(out_dir: str | os.PathLike, embeddings: np.ndarray, corpus: Corpus, meta: dict[str, Any]) -> Path:
    """Write ``embeddings`` (one row per corpus premise) and its description atomically."""
    if embeddings.shape[0] != len(corpus):
        raise ValueError(f"{embeddings.shape[0]} embeddings for {len(corpus)} premises")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
    info = {"format": FORMAT, "corpus": str(corpus.source), "corpus_fingerprint": corpus_fingerprint(corpus),
            "num_premises": len(corpus), "dim": int(embeddings.shape[1]), "dtype": "float32", **meta}
    (tmp / "index.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def load_index(path: str | os.PathLike, corpus: Corpus, dim: int | None = None) -> tuple[np.ndarray, dict]:
    """(read-only memory-mapped embeddings, index.json) after checking they belong to ``corpus``."""
    p = Path(path)
    rebuild = f"rebuild it with `reprover index --data DIR --retriever MODEL --output {p}`"
    if not (p / "index.json").is_file() or not (p / "embeddings.npy").is_file():
        raise FileNotFoundError(f"--indexed-corpus {p}: not a saved premise index (needs index.json and "
                                f"embeddings.npy); {rebuild}")
    info = json.loads((p / "index.json").read_text(encoding="utf-8"))
    if info.get("format") != FORMAT:
        raise IndexMismatchError(f"--indexed-corpus {p}: format {info.get('format')!r}, expected {FORMAT!r}; {rebuild}")
    if info.get("num_premises") != len(corpus) or info.get("corpus_fingerprint") != corpus_fingerprint(corpus):
        raise IndexMismatchError(f"--indexed-corpus {p} was built from {info.get('corpus')} "
                                 f"({info.get('num_premises')} premises), not from {corpus.source} ({len(corpus)}); "
                                 f"{rebuild}")
    emb = np.load(p / "embeddings.npy", mmap_mode="r")
    if emb.shape != (len(corpus), info["dim"]) or (dim is not None and emb.shape[1] != dim):
        raise IndexMismatchError(f"--indexed-corpus {p}: embeddings of shape {emb.shape}, but the retriever "
                                 f"embeds into {dim} dimensions; {rebuild}")
    return emb, info
