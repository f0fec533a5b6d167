"""Nearest-premise search over precomputed embeddings, with accessibility filtering at query time.

RP scores every premise, sorts, and walks the ranking keeping only premises accessible from the theorem
until k are found (``Corpus.get_nearest_premises``). We get the same list from FAISS: an exact
inner-product index (``IndexFlatIP``; unit-norm vectors, so inner product = cosine) is asked for a few times
more than k, the accessible ones are kept in rank order; when fewer than k of those are accessible, the
accessible premises are ranked exactly by one matrix product instead. ``search_torch`` is the plain matmul
reference the tests and the benchmark compare with. The index moves to a GPU when faiss has GPU support and one is
present (faiss-gpu builds); faiss-cpu runs everywhere.

``backend="numpy"`` searches the embedding matrix in place (one matrix product per query batch, then a
masked partial sort), without FAISS's private copy. It is what a saved index (``reprover index``, opened as
a read-only memory map) uses, so every worker process on a machine shares one copy in the page cache.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger(__name__)

Hits = list[tuple[int, float]]  # (premise index, score), best first


def _faiss():
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - faiss-cpu is a dependency
        raise ImportError("the premise index needs faiss: pip install faiss-cpu (or faiss-gpu)") from err
    return faiss


class PremiseIndex:
    """Exact maximum-inner-product search over ``embeddings`` [N, H] (float32, rows = corpus premises)."""

    def __init__(self, embeddings: np.ndarray, use_gpu: bool | None = None, backend: str = "faiss") -> None:
        if embeddings.ndim != 2 or len(embeddings) == 0:
            raise ValueError(f"premise embeddings must be a non-empty [N, H] matrix, got shape {embeddings.shape}; "
                             "is the premise corpus empty?")
        if backend not in ("faiss", "numpy"):
            raise ValueError(f"unknown premise index backend {backend!r}; use 'faiss' or 'numpy'")
        self.backend = backend
        if backend == "numpy":  # no copy: a memory-mapped matrix stays shared between processes
            self.embeddings, self.index = embeddings, None
            return
        faiss = _faiss()
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        index = faiss.IndexFlatIP(self.embeddings.shape[1])
        index.add(self.embeddings)
        gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
        if (use_gpu is None and gpus > 0) or use_gpu:
            if gpus == 0:
                raise RuntimeError("use_gpu=True but this faiss build sees no GPU; "
                                   "install faiss-gpu or pass use_gpu=False")
            index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
            log.info("premise index on GPU 0")
        self.index = index

    def __len__(self) -> int:
        return len(self.embeddings)

    def search(self, queries: np.ndarray, k: int, masks: list[np.ndarray] | None = None) -> list[Hits]:
        """Top ``k`` premises per query row; with ``masks`` only premises whose mask entry is True."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if masks is not None and len(masks) != len(queries):
            raise ValueError(f"{len(masks)} accessibility masks for {len(queries)} queries")
        if self.index is None:
            return _search_numpy(self.embeddings, queries, k, masks)
        n = len(self)
        fetch = min(n, k if masks is None else max(4 * k, 64))
        scores, ids = self.index.search(queries, fetch)
        out: list[Hits] = []
        for q in range(len(queries)):
            mask = None if masks is None else masks[q]
            hits = _keep(ids[q], scores[q], mask, k)
            if mask is not None and len(hits) < min(k, int(mask.sum())) and fetch < n:
                # few accessible premises among the nearest: rank exactly the accessible ones (one pass over N,
                # instead of asking FAISS again and again for twice as many)
                hits = _search_numpy(self.embeddings, queries[q:q + 1], k, [mask])[0]
            out.append(hits)
        return out


def _keep(ids: np.ndarray, scores: np.ndarray, mask: np.ndarray | None, k: int) -> Hits:
    hits: Hits = []
    for i, s in zip(ids.tolist(), scores.tolist(), strict=True):
        if i < 0 or (mask is not None and not mask[i]):
            continue
        hits.append((i, s))
        if len(hits) == k:
            break
    return hits


def _search_numpy(embeddings: np.ndarray, queries: np.ndarray, k: int, masks: list[np.ndarray] | None) -> list[Hits]:
    """Exact top-k by inner product; inaccessible premises never enter the partial sort."""
    scores = queries @ np.asarray(embeddings, dtype=np.float32).T  # [Q, N]; no copy for a float32 memmap
    out: list[Hits] = []
    for q in range(len(queries)):
        row = scores[q]
        allowed = np.arange(len(row)) if masks is None else np.flatnonzero(masks[q])
        kk = min(k, len(allowed))
        if kk == 0:
            out.append([])
            continue
        cand = row[allowed]
        top = np.argpartition(-cand, kk - 1)[:kk]
        top = top[np.lexsort((allowed[top], -cand[top]))]  # by score, ties by premise index (FAISS's order)
        out.append([(int(allowed[i]), float(cand[i])) for i in top])
    return out


def search_torch(embeddings: torch.Tensor, queries: torch.Tensor, k: int,
                 masks: list[np.ndarray] | None = None) -> list[Hits]:
    """Brute-force reference: one matmul, inaccessible premises set to -inf, ``topk``."""
    scores = queries.float() @ embeddings.float().T  # [Q, N]
    if masks is not None:
        allowed = torch.as_tensor(np.stack(masks), device=scores.device)
        scores = scores.masked_fill(~allowed, float("-inf"))
    top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
    out: list[Hits] = []
    for s_row, i_row in zip(top.values.tolist(), top.indices.tolist(), strict=True):
        out.append([(i, s) for i, s in zip(i_row, s_row, strict=True) if s != float("-inf")])
    return out
