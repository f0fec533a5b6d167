"""Premise retrievers behind one call: ``retrieve(queries, k)`` -> ranked accessible premises per query.

Two implementations: :class:`DenseRetriever` (the trained dual encoder + a FAISS index of the corpus) and
:class:`BM25Retriever` (the paper's baseline). Both filter by accessibility at the query's theorem
position unless ``accessible_only=False`` (the paper's "w/ all premises" ablation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from reprover.data.corpus import Corpus
from reprover.data.positions import Pos
from reprover.data.records import Premise
from reprover.retrieval.bm25 import BM25
from reprover.retrieval.encode import embed_texts
from reprover.retrieval.index import PremiseIndex
from reprover.retrieval.model import PremiseRetriever
from reprover.retrieval.premise_text import premise_text

Ranked = list[tuple[Premise, float]]


@dataclass(frozen=True)
class Query:
    """A proof state and where its theorem starts (the accessibility cut-off)."""

    state: str
    file_path: str
    theorem_pos: Pos


class Retriever(Protocol):
    corpus: Corpus

    def retrieve(self, queries: Sequence[Query], k: int, accessible_only: bool = True) -> list[Ranked]: ...


def _check_corpus(corpus: Corpus) -> None:
    if len(corpus) == 0:
        raise ValueError(f"the premise corpus {corpus.source} has no premises; retrieval needs a non-empty "
                         "corpus.jsonl (check --data)")


CHUNK = 256  # queries per search call: bounds the accessibility masks alive at once (CHUNK x num_premises bytes)


def _chunks(queries: Sequence[Query]) -> list[Sequence[Query]]:
    return [queries[lo:lo + CHUNK] for lo in range(0, len(queries), CHUNK)]


def _masks(corpus: Corpus, queries: Sequence[Query], accessible_only: bool) -> list[np.ndarray] | None:
    """Accessibility masks for one chunk of queries (shared between queries of the same theorem).

    Masks are built per chunk and dropped after it, never for a whole split at once: one mask is one byte per
    premise (181 KB for Benchmark 4), so keeping one per theorem of the Lean 4 train split would take ~21 GB.
    """
    if not accessible_only:
        return None
    cache: dict[tuple[str, Pos], np.ndarray] = {}
    for q in queries:
        key = (q.file_path, q.theorem_pos)
        if key not in cache:
            cache[key] = corpus.accessible_mask(q.file_path, q.theorem_pos)
    return [cache[(q.file_path, q.theorem_pos)] for q in queries]


class DenseRetriever:
    """The ReProver retriever: embed the corpus once, then nearest-neighbour search per state."""

    def __init__(self, model: PremiseRetriever, tokenizer: PreTrainedTokenizerBase, corpus: Corpus,
                 max_seq_len: int = 2048, batch_size: int = 64, device: torch.device | str = "cpu",
                 index: PremiseIndex | None = None) -> None:
        """``index``: precomputed premise embeddings (``reprover index``); None = embed the corpus on first use."""
        _check_corpus(corpus)
        self.model, self.tokenizer, self.corpus = model, tokenizer, corpus
        self.max_seq_len, self.batch_size, self.device = max_seq_len, batch_size, torch.device(device)
        self.model.to(self.device)
        self._index: PremiseIndex | None = index

    def reindex(self) -> PremiseIndex:
        """Embed every corpus premise with the current weights (after training steps, call again)."""
        texts = [premise_text(p) for p in self.corpus.premises]
        emb = embed_texts(self.model, self.tokenizer, texts, self.max_seq_len, self.batch_size, self.device)
        self._index = PremiseIndex(emb, use_gpu=None if self.device.type == "cuda" else False)
        return self._index

    @property
    def index(self) -> PremiseIndex:
        return self._index if self._index is not None else self.reindex()

    def retrieve(self, queries: Sequence[Query], k: int, accessible_only: bool = True) -> list[Ranked]:
        if not queries:
            return []
        index = self.index
        out: list[Ranked] = []
        for chunk in _chunks(queries):
            emb = embed_texts(self.model, self.tokenizer, [q.state for q in chunk], self.max_seq_len,
                              self.batch_size, self.device)
            hits = index.search(emb, k, _masks(self.corpus, chunk, accessible_only))
            out += [[(self.corpus.premises[i], s) for i, s in row] for row in hits]
        return out


class BM25Retriever:
    """BM25 over the premise texts; the state string is the query (RP ``retrieval/bm25``)."""

    def __init__(self, corpus: Corpus) -> None:
        _check_corpus(corpus)
        self.corpus = corpus
        self.bm25 = BM25([premise_text(p) for p in corpus.premises])

    def retrieve(self, queries: Sequence[Query], k: int, accessible_only: bool = True) -> list[Ranked]:
        out: list[Ranked] = []
        for chunk in _chunks(queries):
            masks = _masks(self.corpus, chunk, accessible_only)
            for qi, q in enumerate(chunk):
                hits = self.bm25.top_k(q.state, k, None if masks is None else masks[qi])
                out.append([(self.corpus.premises[i], s) for i, s in hits])
        return out
