"""Retriever pieces: premise text, evaluation units, BM25, FAISS index vs brute force, losses, negatives, pooling."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from reprover.data.positions import Pos
from reprover.data.records import Premise
from reprover.retrieval.arch import ArchConfig, build_tokenizer
from reprover.retrieval.bm25 import BM25
from reprover.retrieval.dataset import RetrievalCollator, RetrievalDataset, retrieval_examples
from reprover.retrieval.evaluate import evaluate_retrieval, split_queries
from reprover.retrieval.index import PremiseIndex, search_torch
from reprover.retrieval.loss import contrastive_loss, mse_loss, retrieval_loss
from reprover.retrieval.model import PremiseRetriever, build_encoder
from reprover.retrieval.premise_text import mark_name
from reprover.retrieval.retriever import BM25Retriever, Query

TINY = ArchConfig(d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=1, num_decoder_layers=1, dropout_rate=0.0)


def test_premise_text_marks_the_short_name_with_the_full_name():
    code = "theorem dvd_mul_right (a b : ℕ) : a ∣ a * b"
    assert mark_name(code, "Nat.dvd_mul_right") == "theorem <a>Nat.dvd_mul_right</a> (a b : ℕ) : a ∣ a * b"


def test_premise_text_prefers_root_prefixed_names_and_leaves_unmatched_code_alone():
    assert mark_name("theorem _root_.Foo.bar : True", "Foo.bar") == "theorem <a>Foo.bar</a> : True"
    assert mark_name("def «double» (n : ℕ) := 2 * n", "Toy.double") == "def <a>Toy.double</a> (n : ℕ) := 2 * n"
    assert mark_name("instance : Foo := x", "instFoo") == "instance : Foo := x"


class _OracleRetriever:
    """Ranks each query's positives first (then nothing): R@10 = 100 %, MRR = 1 when no query has > 10."""

    def __init__(self, corpus, answers: dict) -> None:
        self.corpus, self.answers = corpus, answers

    def retrieve(self, queries, k, accessible_only=True):
        return [[(p, 1.0) for p in self.answers[q]][:k] for q in queries]


def test_evaluate_retrieval_reports_recall_in_percent_and_mrr_as_a_fraction(bench):
    theorems = bench.split("random", "train")
    queries, positives = split_queries(_OracleRetriever(bench.corpus, {}), theorems)
    answers = {q: sorted(pos, key=lambda p: p.full_name) for q, pos in zip(queries, positives)}
    assert len(answers) == len(queries) and all(len(a) <= 10 for a in answers.values())
    m = evaluate_retrieval(_OracleRetriever(bench.corpus, answers), theorems)
    assert m["n"] == len(queries) > 0
    assert m["R@10"] == pytest.approx(100.0) and m["MRR"] == pytest.approx(1.0)
    expected_r1 = 100.0 * sum(1 / len(a) for a in answers.values()) / len(answers)
    assert m["R@1"] == pytest.approx(expected_r1) and m["R@1"] > 1.0
    none = evaluate_retrieval(_OracleRetriever(bench.corpus, {q: [] for q in queries}), theorems)
    assert none["R@1"] == none["R@10"] == none["MRR"] == 0.0 and none["n"] == m["n"]


def test_bm25_ranks_the_document_sharing_rare_terms_first_and_respects_the_mask():
    docs = ["theorem add_comm a b : a + b = b + a", "theorem mul_comm a b : a * b = b * a", "def double n := 2 * n"]
    bm = BM25(docs)
    assert bm.top_k("⊢ a * b = b * a", 3)[0][0] == 1
    mask = np.array([True, False, True])
    assert [i for i, _ in bm.top_k("⊢ a * b = b * a", 3, mask)] == [0, 2] or \
        [i for i, _ in bm.top_k("⊢ a * b = b * a", 3, mask)] == [2, 0]
    assert 1 not in [i for i, _ in bm.top_k("mul_comm", 3, mask)]


def test_bm25_matches_the_okapi_formula_on_a_hand_computed_case():
    bm = BM25(["x y", "x", "z z z"])
    # idf(y) = ln((3 - 1 + .5) / (1 + .5)); doc 0 has tf 1, length 2, avgdl 2
    idf = math.log(2.5 / 1.5)
    expected = idf * 1 * 2.5 / (1 + 1.5 * (1 - 0.75 + 0.75 * 2 / 2))
    assert bm.scores("y")[0] == pytest.approx(expected)


def test_faiss_search_with_masks_equals_brute_force_torch():
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((500, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    q = rng.standard_normal((7, 16)).astype(np.float32)
    masks = [rng.random(500) < frac for frac in (0.01, 0.05, 0.3, 0.5, 0.9, 1.0, 0.002)]
    index = PremiseIndex(emb, use_gpu=False)
    got = index.search(q, 20, masks)
    ref = search_torch(torch.from_numpy(emb), torch.from_numpy(q), 20, masks)
    for g, r, m in zip(got, ref, masks, strict=True):
        assert [i for i, _ in g] == [i for i, _ in r]
        assert len(g) == min(20, int(m.sum()))
        assert all(m[i] for i, _ in g)


def test_an_empty_premise_index_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="corpus empty"):
        PremiseIndex(np.zeros((0, 8), dtype=np.float32))


def test_mse_loss_regresses_cosines_onto_labels():
    sim = torch.tensor([[0.5, -0.5], [0.0, 1.0]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert mse_loss(sim, labels).item() == pytest.approx((0.25 + 0.25 + 0 + 0) / 4)


def test_contrastive_loss_ignores_the_queries_other_true_positives():
    sim = torch.tensor([[0.9, 0.1, 0.2, 0.3], [0.2, 0.8, 0.1, 0.0]])
    labels = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    base = contrastive_loss(sim, labels, 0.1)
    moved = sim.clone()
    moved[0, 2] = 0.99  # column 2 is another positive of query 0: hidden from its softmax
    assert contrastive_loss(moved, labels, 0.1).item() == pytest.approx(base.item())
    moved[0, 3] = 0.99  # a real negative: the loss must rise
    assert contrastive_loss(moved, labels, 0.1).item() > base.item()
    with pytest.raises(ValueError, match="unknown retrieval loss"):
        retrieval_loss(sim, labels, "hinge")


def test_embeddings_are_unit_norm_and_ignore_padding():
    torch.manual_seed(0)
    model = PremiseRetriever(build_encoder(TINY)).eval()
    tok = build_tokenizer(TINY)
    short = tok(["⊢ a = a"], return_tensors="pt")
    padded = tok(["⊢ a = a"], padding="max_length", max_length=30, return_tensors="pt")
    with torch.no_grad():
        e1 = model(short["input_ids"], short["attention_mask"])
        e2 = model(padded["input_ids"], padded["attention_mask"])
    assert torch.allclose(e1.norm(dim=-1), torch.ones(1), atol=1e-5)
    assert torch.allclose(e1, e2, atol=1e-5)


def test_negatives_are_accessible_distinct_from_the_positive_and_one_is_from_its_file(bench):
    corpus = bench.corpus
    examples = retrieval_examples(corpus, bench.split("random", "train"))
    ds = RetrievalDataset(corpus, examples, num_negatives=3, num_in_file_negatives=1)
    rng = random.Random(0)
    for ex in examples:
        negs = ds.sample_negatives(ex, rng)
        assert len(negs) == 3 and ex.positive not in negs
        accessible = [n for n in negs if corpus.is_accessible(n, ex.file_path, ex.theorem_pos)]
        if len(corpus.accessible_premises(ex.file_path, ex.theorem_pos)) > 3:
            assert len(accessible) == 3
        same_file = [p for p in corpus.accessible_premises(ex.file_path, ex.theorem_pos)
                     if p.path == ex.positive.path and p != ex.positive]
        if same_file:
            assert negs[0].path == ex.positive.path


def test_collate_labels_mark_every_candidate_in_the_querys_positive_set(bench):
    corpus = bench.corpus
    p1, p2, p3 = corpus.premises[:3]
    from reprover.retrieval.dataset import RetrievalExample

    a = RetrievalExample("⊢ a", "f", Pos(1, 1), p1, frozenset({p1, p2}))
    b = RetrievalExample("⊢ b", "f", Pos(1, 1), p2, frozenset({p2}))
    batch = RetrievalCollator(build_tokenizer(TINY), 64)([(a, [p3]), (b, [p1])])
    # candidates: p1, p2 (positives), p3, p1 (negatives)
    assert batch["labels"].tolist() == [[1, 1, 0, 1], [0, 1, 0, 0]]
    assert batch["input_ids"].shape[0] == 2 + 4


def test_bm25_retriever_returns_only_accessible_premises(bench):
    retriever = BM25Retriever(bench.corpus)
    for thm in bench.split("random", "test"):
        for tac in thm.traced_tactics:
            ranked = retriever.retrieve([Query(tac.state_before, thm.file_path, thm.start)], 100)[0]
            assert ranked
            assert all(bench.corpus.is_accessible(p, thm.file_path, thm.start) for p, _ in ranked)


def test_a_retriever_over_an_empty_corpus_is_a_clear_error():
    from reprover.data.corpus import Corpus, CorpusFile

    empty = Corpus([CorpusFile("A.lean", (), 0, 0)], [], source="empty/corpus.jsonl")
    with pytest.raises(ValueError, match="no premises"):
        BM25Retriever(empty)
    assert Premise("A.lean", "x", Pos(1, 1), Pos(1, 2), "def x := 1")  # the type used above
