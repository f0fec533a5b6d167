"""The modified Kneser-Ney builder: hand-checked numbers, streaming = in-memory, bounded memory, lmplz parity."""

from __future__ import annotations

import math
import shutil
import subprocess
import tracemalloc
from collections import Counter, defaultdict

import numpy as np
import pytest

from deepspeech import kneser_ney
from deepspeech.ngram import BOS, EOS, UNK, NGramLM, build_arpa, estimate_kneser_ney, iter_sentences
from deepspeech.ngram import main as lm_main


def _p(tables, *gram) -> float:
    return 10 ** tables[len(gram) - 1][gram][0]


def _bow(tables, *gram) -> float:
    return 10 ** tables[len(gram) - 1][gram][1]


def test_hand_checked_unigram_model_uses_three_discounts_from_counts_of_counts():
    # one sentence: counts a 4, b 3, c 2, d 1, e 1, </s> 1 -> t1 = 3, t2 = 1, t3 = 1, t4 = 1
    # Y = 3 / (3 + 2) = 0.6; D1 = 1 - 2 * 0.6 * 1/3 = 0.6; D2 = 2 - 3 * 0.6 * 1/1 = 0.2; D3+ = 3 - 4 * 0.6 = 0.6
    # total 12; gamma = (0.6 * 3 + 0.2 * 1 + 0.6 * 2) / 12 = 3.2 / 12; |V| = 7 (a-e, </s>, <unk>)
    tables = estimate_kneser_ney([["a"] * 4 + ["b"] * 3 + ["c"] * 2 + ["d", "e"]], order=1)
    gamma = 3.2 / 12
    expected = {"a": (4 - 0.6) / 12, "b": (3 - 0.6) / 12, "c": (2 - 0.2) / 12, "d": 0.4 / 12, "e": 0.4 / 12,
                EOS: 0.4 / 12, UNK: 0.0}
    for word, u in expected.items():
        assert _p(tables, word) == pytest.approx(u + gamma / 7, abs=1e-6), word
    assert tables[0][(BOS,)][0] == -99.0
    assert sum(_p(tables, w) for w in expected) == pytest.approx(1.0, abs=1e-6)


def test_hand_checked_bigram_model_with_adjusted_counts_and_the_fallback_discounts():
    # "a b", "a b", "c b", "a": bigram counts <s> a 3, a b 2, b </s> 3, <s> c 1, c b 1, a </s> 1
    # (t4 = 0, so lmplz's fallback D = 0.5, 1, 1.5 for both orders).
    # unigram adjusted counts = distinct left neighbours: a 1 (<s>), b 2 (a, c), c 1, </s> 2 (b, a); total 6
    # gamma() = (0.5 * 2 + 1 * 2) / 6 = 0.5, |V| = 5 -> p(a) = 0.5/6 + 0.1, p(b) = 1/6 + 0.1
    tables = estimate_kneser_ney([["a", "b"], ["a", "b"], ["c", "b"], ["a"]], order=2)
    p_a, p_b = 0.5 / 6 + 0.1, 1 / 6 + 0.1
    assert _p(tables, "a") == pytest.approx(p_a, abs=1e-6) and _p(tables, "c") == pytest.approx(p_a, abs=1e-6)
    assert _p(tables, "b") == pytest.approx(p_b, abs=1e-6) and _p(tables, EOS) == pytest.approx(p_b, abs=1e-6)
    assert _p(tables, UNK) == pytest.approx(0.1, abs=1e-6)
    # context <s> (raw counts, it has no left context): a 3, c 1; gamma = (0.5 * 1 + 1.5 * 1) / 4 = 0.5
    assert _p(tables, BOS, "a") == pytest.approx((3 - 1.5) / 4 + 0.5 * p_a, abs=1e-6)
    assert _p(tables, BOS, "c") == pytest.approx((1 - 0.5) / 4 + 0.5 * p_a, abs=1e-6)
    assert _bow(tables, BOS) == pytest.approx(0.5, abs=1e-6)
    # context a: b 2, </s> 1; gamma = (0.5 + 1) / 3
    assert _p(tables, "a", "b") == pytest.approx(1 / 3 + 0.5 * p_b, abs=1e-6)
    assert _p(tables, "a", EOS) == pytest.approx(0.5 / 3 + 0.5 * p_b, abs=1e-6)
    assert _bow(tables, "a") == pytest.approx(0.5, abs=1e-6)
    # context b: </s> 3 -> (3 - 1.5) / 3 + (1.5 / 3) p(</s>); </s> is no context (backoff 1)
    assert _p(tables, "b", EOS) == pytest.approx(0.5 + 0.5 * p_b, abs=1e-6)
    assert _bow(tables, EOS) == 1.0
    assert set(tables[1]) == {(BOS, "a"), ("a", "b"), ("b", EOS), (BOS, "c"), ("c", "b"), ("a", EOS)}


def _zipf_corpus(n_sentences: int, vocab: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1) ** 1.1
    p /= p.sum()
    words = [f"w{i}" for i in range(vocab)]
    return [[words[i] for i in rng.choice(vocab, int(rng.integers(1, 15)), p=p)] for _ in range(n_sentences)]


def _reference_modified_kn(sentences, order: int) -> dict[tuple[str, ...], float]:
    """The same estimate written from the definitions with dicts (no sorting, no streaming): log10 p."""
    raw = Counter()
    for s in sentences:
        padded = [BOS] * (order - 1) + s + [EOS]
        for i in range(order - 1, len(padded)):
            raw[tuple(padded[i - order + 1: i + 1])] += 1
    counts = [Counter() for _ in range(order)]
    for g, c in raw.items():  # highest order: raw counts, padding artefacts (<s> <s> ...) dropped
        if not (order > 1 and g[0] == BOS and g[1] == BOS):
            counts[order - 1][g] += c
    for k in range(1, order):
        for s in {g[order - k - 1:] for g in raw}:  # distinct (k+1)-grams: one left extension each
            if s[1] != BOS:
                counts[k - 1][s[1:]] += 1
        for g, c in raw.items():  # k-grams starting with <s> keep raw counts
            v = g[order - k:]
            if v[0] == BOS and not (k >= 2 and v[1] == BOS):
                counts[k - 1][v] += c
    probs: dict[tuple[str, ...], float] = {}
    for k in range(1, order + 1):
        t = Counter(min(c, 5) for c in counts[k - 1].values())
        d = kneser_ney.discounts([0, t[1], t[2], t[3], t[4]], k)
        disc = {1: d[0], 2: d[1]}
        by_ctx = defaultdict(dict)
        for g, c in counts[k - 1].items():
            by_ctx[g[:-1]][g[-1]] = c
        for ctx, ws in by_ctx.items():
            total = sum(ws.values())
            gamma = sum(disc.get(c, d[2]) for c in ws.values()) / total
            for w, c in ws.items():
                lower = probs[(*ctx[1:], w)] if k > 1 else gamma / (len(ws) + 1)  # + 1: <unk>
                u = (c - disc.get(c, d[2])) / total
                probs[(*ctx, w)] = u + (gamma * lower if k > 1 else lower)
            if k == 1:
                probs[(UNK,)] = gamma / (len(ws) + 1)
    return {g: math.log10(p) for g, p in probs.items()}


def test_the_streamed_estimate_equals_a_dict_implementation_of_the_definitions():
    sentences = _zipf_corpus(600, 80, seed=1)
    tables = estimate_kneser_ney(sentences, 3)
    ref = _reference_modified_kn(sentences, 3)
    ours = {g: v[0] for t in tables for g, v in t.items() if g != (BOS,)}
    assert set(ours) == set(ref)
    assert max(abs(ours[g] - ref[g]) for g in ref) < 1e-9


def test_counts_spilled_in_many_small_runs_give_the_same_model_as_one_run():
    sentences = _zipf_corpus(400, 60, seed=2)
    whole = estimate_kneser_ney(sentences, 4)
    spilled = estimate_kneser_ney(sentences, 4, memory_rows=400)
    assert [set(t) for t in whole] == [set(t) for t in spilled]
    for a, b in zip(whole, spilled):
        for g, (p, bow) in a.items():
            assert b[g] == pytest.approx((p, bow), abs=1e-9)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_every_conditional_distribution_sums_to_one(order):
    sentences = _zipf_corpus(300, 40, seed=3)
    lm = NGramLM(estimate_kneser_ney(sentences, order))
    words = [g[0] for g in lm.tables[0] if g[0] != BOS]
    for history in [(BOS,), (BOS, "w0"), ("w0", "w1"), ("w1", "w0", "w2"), ("zebra",)]:
        assert sum(10 ** lm.log10_prob(w, history) for w in words) == pytest.approx(1.0, abs=1e-6), history


def _traced_build(tmp_path, sentences, order: int, memory_rows: int):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    tracemalloc.start()
    try:
        result = kneser_ney.write_arpa(iter_sentences(text), tmp_path / "lm.arpa", order, memory_rows=memory_rows,
                                       workdir=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_memory_stays_bounded_by_the_sort_budget_not_the_corpus(tmp_path):
    """Four times the n-grams, same vocabulary and sort budget: the traced peak (numpy arrays included)
    barely moves. (The slow test below shows the absolute bound at 2 M words.)"""
    every_word = [[f"w{i}" for i in range(j, j + 10)] for j in range(0, 3000, 10)]  # same vocabulary in both
    small, peak_small = _traced_build(tmp_path, every_word + _zipf_corpus(150, 3000, seed=4), 3, 2000)
    large, peak_large = _traced_build(tmp_path, every_word + _zipf_corpus(3500, 3000, seed=4), 3, 2000)
    total = sum(large.counts)
    assert total > 3.5 * sum(small.counts) and large.runs > small.runs > 1
    assert peak_large < 1.75 * peak_small, (peak_small, peak_large)  # an in-memory build grows > 4x
    assert [len(t) for t in NGramLM.load(tmp_path / "lm.arpa").tables] == large.counts


_CHILD = """
import sys, tracemalloc
from deepspeech import kneser_ney
from deepspeech.ngram import iter_sentences
tracemalloc.start()
r = kneser_ney.write_arpa(iter_sentences(sys.argv[1]), sys.argv[2], 4, memory_rows=50_000, workdir=sys.argv[3])
print(sum(r.counts), r.runs, tracemalloc.get_traced_memory()[1])
"""


@pytest.mark.slow
def test_a_million_word_corpus_builds_a_4gram_in_a_fixed_memory_budget(tmp_path):
    """In its own process: 1 M words, > 1.5 M n-grams, 50 k rows per sort; the traced peak (numpy arrays and
    Python objects) stays a small fixed amount, where Python dicts of the counts (the builder this one replaced:
    ~375 B per n-gram) would take ~700 MB. Resident size: see kneser_ney.py (glibc's heap)."""
    import sys

    text = tmp_path / "corpus.txt"
    rng = np.random.default_rng(100)
    p = 1.0 / np.arange(1, 20_001) ** 1.1
    ids = rng.choice(20_000, size=1_000_000, p=p / p.sum())  # the Zipf text of _zipf_corpus, drawn at once
    cuts = np.cumsum(rng.integers(1, 15, size=140_000))
    cuts = cuts[cuts < len(ids)]
    words = np.array([f"w{i}" for i in range(20_000)], dtype=object)[ids]
    text.write_text("\n".join(" ".join(s) for s in np.split(words, cuts)) + "\n")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(text), str(tmp_path / "lm.arpa"), str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout.split()
    total, runs, peak = int(out[0]), int(out[1]), int(out[2])
    assert total > 1_500_000 and runs > 10
    assert peak < 48 * 2**20 and peak < 0.05 * total * 375, (peak, total)


LMPLZ = shutil.which("lmplz")


@pytest.mark.skipif(LMPLZ is None, reason="KenLM's lmplz is not on PATH (build kpu/kenlm to compare)")
@pytest.mark.parametrize("order", [2, 3, 4])
def test_same_ngrams_probabilities_and_heldout_perplexity_as_lmplz(tmp_path, order):
    train, held = tmp_path / "train.txt", _zipf_corpus(500, 800, seed=6)
    train.write_text("\n".join(" ".join(s) for s in _zipf_corpus(4000, 800, seed=5)) + "\n")
    with open(train) as src, open(tmp_path / "lmplz.arpa", "w") as dst:
        subprocess.run([LMPLZ, "-o", str(order), "-S", "5%", "-T", str(tmp_path), "--discount_fallback"],
                       stdin=src, stdout=dst, stderr=subprocess.DEVNULL, check=True)
    ours = NGramLM.load(build_arpa(train, tmp_path / "ours.arpa", order, memory_rows=20_000))
    theirs = NGramLM.load(tmp_path / "lmplz.arpa")
    for k in range(order):
        assert set(ours.tables[k]) == set(theirs.tables[k]), f"{k + 1}-grams differ"
        for g, (p, bow) in ours.tables[k].items():
            if g != (BOS,):  # lmplz writes 0 for <s>, we write -99: it is never predicted
                assert p == pytest.approx(theirs.tables[k][g][0], abs=1e-4), g
            assert bow == pytest.approx(theirs.tables[k][g][1], abs=1e-4), g
    ppl = kneser_ney.perplexity
    assert ppl(ours.log10_prob, held) == pytest.approx(ppl(theirs.log10_prob, held), rel=0.01)


def test_flashlight_kenlm_loads_our_arpa_and_scores_like_our_reader(tmp_path):
    fl_kenlm = pytest.importorskip("flashlight.lib.text.decoder.kenlm")
    from flashlight.lib.text.dictionary import create_word_dict

    sentences = _zipf_corpus(500, 100, seed=7)
    arpa = tmp_path / "lm.arpa"
    arpa.write_text("")
    build_arpa(_write(tmp_path / "t.txt", sentences), arpa, 3)
    ours = NGramLM.load(arpa)
    words = [g[0] for g in ours.tables[0]]
    wd = create_word_dict({w: [[w]] for w in words})
    lm = fl_kenlm.KenLM(str(arpa), wd)
    for s in _zipf_corpus(20, 100, seed=8):
        state, total, ref, history = lm.start(False), 0.0, 0.0, [BOS]
        for w in s:
            state, score = lm.score(state, wd.get_index(w))
            total += score
            ref += ours.log10_prob(w, history)
            history.append(w)
        total += lm.finish(state)[1]
        ref += ours.log10_prob(EOS, history)
        assert total == pytest.approx(ref, abs=1e-4)


def _write(path, sentences):
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return path


def test_cli_builds_from_gzip_and_refuses_an_empty_text_in_one_line(tmp_path, capsys):
    import gzip

    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(b"THE CAT SAT\nthe dog sat\n"))
    assert lm_main(["--text", str(gz), "--order", "2", "--out", str(tmp_path / "lm.arpa")]) == 0
    assert ("the", "cat") in NGramLM.load(tmp_path / "lm.arpa").tables[1]  # lower-cased
    (tmp_path / "empty.txt").write_text("\n\n")
    assert lm_main(["--text", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "e.arpa")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no words" in err[0] and "deepspeech-lm" in err[0]
    assert not (tmp_path / "e.arpa").exists()
