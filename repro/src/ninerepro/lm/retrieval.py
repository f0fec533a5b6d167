"""Few-shot demonstration retrieval: the pool items most similar to a query, dense (encoder + FAISS) or BM25.

CGAP and MSDP both pick their demonstrations per test item from a training pool by embedding similarity (the
official code uses DPR encoders and a dot product). The encoder is a parameter: anything with
``encode(texts) -> float32 [N, D]``; :class:`HFMeanPoolEncoder` wraps a sentence-transformers style folder
(the embedded all-MiniLM-L6-v2 by default, a DPR encoder folder when the user has one, with ``pooling="cls"``).
BM25 (``rank-bm25``) needs no model and is the fallback. Pool embeddings are cached on disk, keyed by the
encoder's name and a hash of the texts, since embedding a 79k-question pool is the slow part.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ninerepro.atomic import atomic_save


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class HFMeanPoolEncoder:
    """Sentence embeddings from a transformers encoder folder: mean over tokens (or CLS), optionally unit-norm."""

    def __init__(self, path: str | Path | None = None, pooling: str = "mean", normalize: bool = True,
                 batch_size: int = 64, device: str = "cpu", max_length: int = 256):
        from transformers import AutoModel, AutoTokenizer

        if path is None:
            from ninerepro.lm.embedded import minilm_dir

            path = minilm_dir()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        self.path, self.pooling, self.normalize = Path(path), pooling, normalize
        self.batch_size, self.device, self.max_length = batch_size, device, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModel.from_pretrained(self.path).to(device).eval()
        self.name = f"{self.path.name}:{pooling}:{'norm' if normalize else 'raw'}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode():
            for lo in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(list(texts[lo:lo + self.batch_size]), padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state  # [B, T, D]
                if self.pooling == "cls":
                    vec = hidden[:, 0]
                else:
                    m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
                    vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
                if self.normalize:
                    vec = torch.nn.functional.normalize(vec, dim=-1)
                chunks.append(vec.float().cpu().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)


def cached_embeddings(encoder: Encoder, texts: Sequence[str], cache_dir: str | Path | None) -> np.ndarray:
    """``encoder.encode(texts)``, read from / written to ``cache_dir`` (``.npy``, atomic) when given."""
    if cache_dir is None:
        return encoder.encode(texts)
    digest = hashlib.sha256("\x00".join([encoder.name, *texts]).encode()).hexdigest()[:20]
    path = Path(cache_dir) / f"emb-{re.sub(r'[^A-Za-z0-9_.-]', '_', encoder.name)}-{digest}.npy"
    if path.is_file():
        emb = np.load(path)
        if emb.shape[0] == len(texts):
            return emb
    emb = np.ascontiguousarray(encoder.encode(texts), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, emb)
    atomic_save(path, lambda f: f.write(buf.getvalue()))
    return emb


class DenseRetriever:
    """Inner-product top-n over pool embeddings with FAISS (exact ``IndexFlatIP``).

    ``query_encoder`` defaults to ``encoder``; DPR-style setups pass two (CGAP embeds pool items with the DPR
    context encoder and test questions with the DPR question encoder)."""

    def __init__(self, encoder: Encoder, pool_texts: Sequence[str], cache_dir: str | Path | None = None,
                 query_encoder: Encoder | None = None):
        import faiss

        self.encoder = query_encoder or encoder
        emb = cached_embeddings(encoder, pool_texts, cache_dir)
        self.index = faiss.IndexFlatIP(emb.shape[1])
        self.index.add(emb)
        self.size = len(pool_texts)

    def search(self, queries: Sequence[str], n: int) -> list[list[tuple[int, float]]]:
        """For each query, ``n`` (pool index, score) pairs, best first."""
        q = np.ascontiguousarray(self.encoder.encode(queries), dtype=np.float32)
        scores, idx = self.index.search(q, min(n, self.size))
        return [[(int(i), float(s)) for i, s in zip(row_i, row_s) if i >= 0] for row_i, row_s in zip(idx, scores)]


def _bm25_tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class BM25Retriever:
    """Okapi BM25 over whitespace-and-punctuation tokens (``rank_bm25.BM25Okapi``): no model, no download."""

    def __init__(self, pool_texts: Sequence[str]):
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi([_bm25_tokens(t) or ["<empty>"] for t in pool_texts])
        self.size = len(pool_texts)

    def search(self, queries: Sequence[str], n: int) -> list[list[tuple[int, float]]]:
        out = []
        for q in queries:
            scores = self.bm25.get_scores(_bm25_tokens(q))
            top = np.argsort(-scores, kind="stable")[: min(n, self.size)]
            out.append([(int(i), float(scores[i])) for i in top])
        return out


def build_retriever(kind: str, pool_texts: Sequence[str], *, encoder_path: str | None = None,
                    pooling: str = "mean", cache_dir: str | Path | None = None, device: str = "cpu"):
    """``dense`` (encoder folder, default the embedded MiniLM) or ``bm25``."""
    if kind == "bm25":
        return BM25Retriever(pool_texts)
    if kind == "dense":
        return DenseRetriever(HFMeanPoolEncoder(encoder_path, pooling=pooling, device=device), pool_texts, cache_dir)
    raise ValueError(f"unknown retriever {kind!r}; choose 'dense' or 'bm25'")
