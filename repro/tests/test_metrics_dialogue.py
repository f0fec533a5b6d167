"""ninerepro.metrics.dialogue: the ParlAI/MSDP F1 normaliser and corpus averaging."""

from __future__ import annotations

import pytest

from ninerepro.metrics import corpus_unigram_f1, normalize_parlai, unigram_f1


def test_punctuation_is_replaced_by_spaces():
    assert normalize_parlai("It's a well-known fact.") == "it s well known fact"


def test_empty_reference_is_skipped_and_empty_guess_scores_zero():
    assert unigram_f1("x", "") is None and unigram_f1("", "x") == (0.0, 0.0, 0.0)
    assert corpus_unigram_f1(["x", "y"], ["x", ""]) == (1.0, 1.0, 1.0)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="2 guesses but 1 references"):
        corpus_unigram_f1(["a", "b"], ["a"])
