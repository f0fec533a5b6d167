"""Demonstration retrieval: BM25 ranks the lexical match first; dense search uses and reuses its disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from ninerepro.lm.embedded import has_minilm
from ninerepro.lm.retrieval import BM25Retriever, DenseRetriever, HFMeanPoolEncoder

POOL = ["capital of France Paris", "largest planet Jupiter", "who wrote Hamlet Shakespeare"]


class CountingEncoder:
    name = "bag"

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        vocab = sorted({w for t in POOL for w in t.lower().split()})
        return np.array([[float(w in t.lower().split()) for w in vocab] for t in texts], dtype=np.float32)


def test_bm25_puts_the_lexical_match_first():
    hits = BM25Retriever(POOL).search(["which planet is largest"], 2)
    assert hits[0][0][0] == 1 and len(hits[0]) == 2


def test_dense_search_caches_pool_embeddings_on_disk(tmp_path):
    enc = CountingEncoder()
    r = DenseRetriever(enc, POOL, cache_dir=tmp_path)
    assert r.search(["Hamlet Shakespeare"], 1)[0][0][0] == 2
    assert len(list(tmp_path.glob("emb-*.npy"))) == 1
    enc2 = CountingEncoder()
    DenseRetriever(enc2, POOL, cache_dir=tmp_path)
    assert enc2.calls == 0  # read back, not recomputed


@pytest.mark.skipif(not has_minilm(), reason="embedded all-MiniLM-L6-v2 not installed (make setup installs it)")
def test_the_embedded_minilm_embeds_unit_vectors_that_rank_paraphrases_first():
    enc = HFMeanPoolEncoder()
    v = enc.encode(["What is the capital of France?", "Paris is France's capital city.", "Jupiter is a planet."])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
