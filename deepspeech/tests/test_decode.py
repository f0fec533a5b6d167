"""Greedy and prefix beam search decoding, and the pure-Python ARPA LM builder/reader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from deepspeech.decode import BeamSearchDecoder, greedy_decode, word_timings
from deepspeech.ngram import BOS, EOS, NGramLM, build_arpa, estimate_kneser_ney, format_arpa
from ninerepro.text.ctc import CharVocab

VOCAB = CharVocab.english()


def posteriors(path: str, p: float = 0.9) -> np.ndarray:
    """Log-posteriors whose argmax spells ``path`` frame by frame ('_' = blank), the rest spread evenly."""
    out = np.full((len(path), len(VOCAB)), (1 - p) / (len(VOCAB) - 1))
    for t, ch in enumerate(path):
        out[t, 0 if ch == "_" else VOCAB.symbols.index(ch)] = p
    return np.log(out)


def test_greedy_merges_repeats_and_drops_blanks():
    assert greedy_decode(posteriors("hh_e_ll_lo"), VOCAB) == "hello"


@pytest.mark.parametrize("seed", range(5))
def test_beam_search_of_width_one_without_lm_equals_greedy_on_peaky_posteriors(seed):
    rng = np.random.default_rng(seed)
    chars = ["_"] * 10 + list("abc '")
    path = "".join(rng.choice(chars) for _ in range(40))
    lp = posteriors(path, p=float(rng.uniform(0.6, 0.95)))
    assert BeamSearchDecoder(VOCAB, beam_width=1, cutoff_prob=1.0).decode(lp) == greedy_decode(lp, VOCAB)


def test_wide_beam_finds_the_labelling_greedy_misses():
    # frames: P(a)=.4,P(_)=.6 twice. Greedy: "" (p=.36); but "a" totals .4*.6+.6*.4+.4*.4=.64
    lp = np.log(np.full((2, len(VOCAB)), 1e-6))
    a = VOCAB.symbols.index("a")
    lp[:, 0], lp[:, a] = np.log(0.6), np.log(0.4)
    assert greedy_decode(lp, VOCAB) == ""
    assert BeamSearchDecoder(VOCAB, beam_width=8).decode(lp) == "a"


def _lm(tmp_path: Path, text: str, order: int = 2) -> NGramLM:
    (tmp_path / "lm.txt").write_text(text)
    return NGramLM.load(build_arpa(tmp_path / "lm.txt", tmp_path / "lm.arpa", order))


def test_the_language_model_overrules_a_slightly_preferred_misspelling(tmp_path):
    lm = _lm(tmp_path, "the cat sat\nthe cat ran\na cat sat\n" * 5)
    # acoustics slightly prefer "kat" over "cat" at the first letter of the second word
    k, c = VOCAB.symbols.index("k"), VOCAB.symbols.index("c")
    lp = posteriors("the_ _cat")
    lp[6, :] = np.log(1e-4)
    lp[6, k], lp[6, c] = np.log(0.55), np.log(0.45)
    no_lm = BeamSearchDecoder(VOCAB, None, beam_width=16)
    with_lm = BeamSearchDecoder(VOCAB, lm, beam_width=16, alpha=1.0, beta=0.0)
    assert no_lm.decode(lp) == "the kat"
    assert with_lm.decode(lp) == "the cat"


def test_word_timings_follow_the_frames_of_each_word():
    words = word_timings(posteriors("hi_ _yo"), VOCAB, frame_seconds=0.02)
    assert [w["word"] for w in words] == ["hi", "yo"]
    assert words[0]["start"] == 0.0 and math.isclose(words[0]["end"], 0.04)
    assert math.isclose(words[1]["start"], 0.10) and math.isclose(words[1]["end"], 0.14)


SENTENCES = [s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat ran on a mat", "the cat ran"]]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_kneser_ney_conditional_probabilities_sum_to_one(order):
    lm = NGramLM(estimate_kneser_ney(SENTENCES, order))
    words = [g[0] for g in lm.tables[0] if g[0] != BOS]
    for history in [(BOS,), (BOS, "the"), ("the", "cat"), ("cat", "sat"), ("dog", "mat"), ("zebra",)]:
        total = sum(10 ** lm.log10_prob(w, history) for w in words)
        assert total == pytest.approx(1.0, abs=1e-6), history


def test_arpa_file_has_header_counts_sections_and_backoffs(tmp_path):
    tables = estimate_kneser_ney(SENTENCES, 3)
    text = format_arpa(tables)
    assert "\\data\\" in text and text.rstrip().endswith("\\end\\")
    for k, table in enumerate(tables, 1):
        assert f"ngram {k}={len(table)}" in text
    line = next(ln for ln in text.splitlines() if ln.endswith("\tthe cat") is False and "\tthe cat\t" in ln)
    assert len(line.split("\t")) == 3  # prob, n-gram, backoff
    reread = NGramLM.load(build_arpa(_write(tmp_path, SENTENCES), tmp_path / "lm.arpa", 3))
    assert reread.log10_prob("sat", ("the", "cat")) == pytest.approx(NGramLM(tables).log10_prob("sat", ("the", "cat")),
                                                                     abs=1e-5)


def _write(tmp_path: Path, sentences) -> Path:
    path = tmp_path / "text.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return path


def test_seen_continuations_outrank_unseen_ones():
    lm = NGramLM(estimate_kneser_ney(SENTENCES, 3))
    assert lm.log10_prob("sat", (BOS, "the", "cat")) > lm.log10_prob("dog", (BOS, "the", "cat"))
    assert lm.log10_prob(EOS, ("dog", "sat")) > lm.log10_prob("the", ("dog", "sat"))


def test_kenlm_reads_our_arpa_and_agrees_when_it_is_installed(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    arpa = build_arpa(_write(tmp_path, SENTENCES), tmp_path / "lm.arpa", 3)
    ours = NGramLM.load(arpa)
    model = kenlm.Model(str(arpa))
    for sentence in ["the cat sat on the mat", "a dog ran", "the zebra sat"]:
        words, total, history = sentence.split(), 0.0, [BOS]
        for w in [*words, EOS]:
            total += ours.log10_prob(w, history)
            history.append(w)
        assert model.score(sentence, bos=True, eos=True) == pytest.approx(total, abs=1e-4)
