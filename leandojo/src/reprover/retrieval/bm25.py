"""The BM25 baseline retriever (paper Sec. 6, Table 2 "BM25"), written out in NumPy.

ReProver's baseline is Okapi BM25 (``rank_bm25.BM25Okapi``: k1 = 1.5, b = 0.75, negative IDFs replaced by
epsilon = 0.25 times the mean IDF) over tokens from a BPE tokenizer trained on premises and states with a
whitespace/punctuation pre-tokenizer. We tokenize with the same pre-tokenizer rule (runs of word characters,
runs of other non-space characters) and skip the BPE step: with a 30k vocabulary on this text BPE keeps
nearly every pre-token whole, and it would have to be trained per corpus.

Scores come from an inverted index (term -> postings), so a query costs time proportional to the postings
of its terms, not to the corpus size; ``candidates`` restricts scoring to accessible premises.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]+")


def bm25_tokenize(text: str) -> list[str]:
    """Word runs and symbol runs (``⊢``, ``∣``, ``:=``) as separate tokens; case is kept (Lean is cased)."""
    return _TOKEN.findall(text)


class BM25:
    """Okapi BM25 over a fixed list of documents."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        if len(documents) == 0:
            raise ValueError("BM25 needs at least one document; the premise corpus is empty")
        self.k1, self.b = k1, b
        tokenized = [bm25_tokenize(d) for d in documents]
        self.doc_len = np.array([len(t) for t in tokenized], dtype=np.float64)
        self.avgdl = max(float(self.doc_len.mean()), 1e-9)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, tokens in enumerate(tokenized):
            for term, tf in Counter(tokens).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        self._postings = {t: (np.array(i, dtype=np.int64), np.array(f, dtype=np.float64))
                          for t, (i, f) in postings.items()}
        self.idf = self._idf(len(documents), epsilon)
        self._norm = self.k1 * (1.0 - self.b + self.b * self.doc_len / self.avgdl)  # per-document length term

    def _idf(self, n_docs: int, epsilon: float) -> dict[str, float]:
        idf = {t: math.log(n_docs - len(ids) + 0.5) - math.log(len(ids) + 0.5)
               for t, (ids, _) in self._postings.items()}
        floor = epsilon * (sum(idf.values()) / len(idf)) if idf else 0.0
        return {t: (v if v >= 0 else floor) for t, v in idf.items()}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (repeated query terms count repeatedly, as in RP)."""
        out = np.zeros(len(self.doc_len), dtype=np.float64)
        for term in bm25_tokenize(query):
            hit = self._postings.get(term)
            if hit is None:
                continue
            ids, tf = hit
            out[ids] += self.idf[term] * tf * (self.k1 + 1.0) / (tf + self._norm[ids])
        return out

    def top_k(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(index, score) of the ``k`` best documents, best first; ``mask`` (bool) limits the candidates."""
        s = self.scores(query)
        candidates = np.arange(len(s)) if mask is None else np.flatnonzero(mask)
        if len(candidates) == 0:
            return []
        k = min(k, len(candidates))
        part = candidates[np.argpartition(-s[candidates], k - 1)[:k]]
        # stable tie-break by index so results are deterministic
        return [(int(i), float(s[i])) for i in sorted(part, key=lambda i: (-s[i], i))]
