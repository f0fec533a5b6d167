"""F1 / KF1 as the official ``tasks/msdp/metrics.py`` + ``evaluate.py``, on the pairs where normalisers differ."""

from __future__ import annotations

import pytest

from knowledge_dialogue.metrics import corpus_f1, f1, generation_scores, normalize_parlai, score_files
from ninerepro.metrics import token_f1


def test_punctuation_becomes_a_space_not_nothing():
    assert normalize_parlai("Don't stop: state-of-the-art!") == "don t stop state of art"
    # "don't" is two words here, one ("dont") under the SQuAD normaliser, so the scores differ
    assert f1("dont", "don't") == (0.0, 0.0, 0.0)
    assert token_f1("dont", ["don't"]) == 1.0
    p, r, f = f1("don t", "don't")
    assert (p, r, f) == (1.0, 1.0, 1.0)


def test_articles_are_dropped_only_as_whole_words():
    assert normalize_parlai("The theatre, an anthem, a cat") == "theatre anthem cat"
    assert f1("the cat", "a cat") == (1.0, 1.0, 1.0)


def test_precision_and_recall_use_multiset_counts():
    p, r, f = f1("cat cat dog", "cat dog dog fish")
    assert (p, r) == pytest.approx((2 / 3, 2 / 4)) and f == pytest.approx(2 * p * r / (p + r))


def test_empty_guess_scores_zero_and_empty_reference_is_skipped():
    assert f1("", "a cat") == (0.0, 0.0, 0.0)
    # a reference that only normalises to nothing still counts (and scores 0); only "" is skipped
    assert corpus_f1(["cat", "cat"], ["cat", "."]) == (0.5, 0.5, 0.5)
    assert corpus_f1(["cat", "dog"], ["cat", ""]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="all 1 references are empty"):
        corpus_f1(["x"], [""])


def test_corpus_averages_p_r_f1_separately():
    p, r, f = corpus_f1(["b c", "d"], ["b c x y", "d"])  # line 1: P 1, R .5, F .667; line 2: all 1
    assert (p, r) == (1.0, 0.75) and f == pytest.approx((2 / 3 + 1) / 2)
    assert f != pytest.approx(2 * p * r / (p + r))


def test_unicode_is_not_normalised():
    assert normalize_parlai("Café “Noir”") == "café “noir”"  # curly quotes are not ASCII punctuation
    assert f1("cafe", "café") == (0.0, 0.0, 0.0)
    assert f1("CAFÉ", "café") == (1.0, 1.0, 1.0)  # lower() handles non-ASCII capitals


def test_file_evaluator_strips_endoftext_and_reads_no_passages_used_as_empty(tmp_path):
    guess, ref = tmp_path / "g.txt", tmp_path / "r.txt"
    guess.write_text("  the cat sat<|endoftext|>\nanything\n")
    ref.write_text("cat sat\nno_passages_used\n")
    assert score_files(guess, ref) == (1.0, 1.0, 1.0)
    ref.write_text("cat sat\nx\ny\n")
    with pytest.raises(ValueError, match=r"g.txt has 2 lines but .*r.txt has 3"):
        score_files(guess, ref)


def test_bleu_and_rouge_are_100_for_identical_text_and_skip_empty_references():
    s = generation_scores(["the cat sat on the mat today", "zzz"], ["the cat sat on the mat today", ""])
    assert s == pytest.approx({"B": 100.0, "R-L": 100.0, "F1": 100.0})
    low = generation_scores(["a dog ran"], ["the cat sat on the mat today"])
    assert low["B"] < 5 and low["R-L"] == 0.0 and low["F1"] == 0.0
