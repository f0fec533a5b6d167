"""The official majority vote (cleaning, normalisation, ties) and our probability-weighted marginalisation."""

from __future__ import annotations

import math

import pytest

from closedbook_qa.aggregate import Candidate, context_weights, majority_vote, weighted_scores, weighted_vote
from closedbook_qa.cleaning import clean_answer, context_line_complete, extract_context


def test_the_vote_counts_normalised_answers_and_returns_the_normalised_winner():
    assert majority_vote(["Answer: The Beatles", "beatles!", "A: Queen"]) == "beatles"


def test_ties_go_to_the_earliest_context():
    assert majority_vote(["Rome", "Paris", "Paris", "Rome"]) == "rome"
    assert majority_vote(["Paris", "Rome"]) == "paris"


def test_cleaning_removes_one_leading_label_and_the_end_of_text_marker():
    assert clean_answer("Answer: NBA: Lakers<|endoftext|>") == "NBA: Lakers"
    assert clean_answer(" Ans: 42\nQuestion: next") == "42"
    assert clean_answer("B: yes") == "yes"


def test_official_cleaning_deletes_labels_anywhere_as_the_official_readers():
    assert clean_answer("Answer: NBA: Lakers", official=True) == "NBLakers"
    assert majority_vote(["NBA: Lakers", "Lakers"], official=True) == "nblakers"
    assert majority_vote(["NBA: Lakers", "NBA: Lakers", "Lakers"]) == "nba lakers"


def test_unicode_and_currency_answers_vote_as_their_normal_forms():
    assert majority_vote(["Brasília", "Brasilia", "Brasília"]) == "brasília"
    assert majority_vote(["$5", "5", "€5"]) == "5"


def test_the_vote_needs_an_answer():
    with pytest.raises(ValueError):
        majority_vote([])


def test_context_extraction_keeps_the_first_line_of_five_characters():
    assert extract_context("\nok\nA: Berlin is the capital.\nQ: next") == "Berlin is the capital."
    assert extract_context("no\nabc") == "No proper answer!"
    assert not context_line_complete("A: Berlin is")            # the line may still grow
    assert context_line_complete("hi\nA: Berlin is big\nQ")     # a finished long line: the kept part is final


def _cand(answer, a_lp, c_lp, n=10):
    return Candidate(answer, a_lp, c_lp, n)


def test_weighted_vote_lets_confident_answers_beat_a_plural_of_doubtful_ones():
    cands = [_cand("Sydney", math.log(0.2), -10), _cand("Sydney", math.log(0.2), -10),
             _cand("Canberra", math.log(0.9), -10)]
    assert majority_vote([c.answer for c in cands]) == "sydney"
    assert weighted_vote(cands) == "canberra"  # 0.9 > 0.2 + 0.2 with equal context weights


def test_mean_weighting_normalises_context_length_and_sum_does_not():
    short, long_ = _cand("a", 0.0, -5.0, 5), _cand("b", 0.0, -20.0, 40)
    mean_w, sum_w = context_weights([short, long_], "mean"), context_weights([short, long_], "sum")
    assert mean_w[1] > mean_w[0]          # -0.5 per token beats -1.0 per token
    assert sum_w[0] > 0.99                # -5 vs -20 nats: one-hot on the short one
    assert context_weights([short, long_], "uniform") == [0.5, 0.5]


def test_weighted_ties_go_to_the_earliest_and_scores_sum_per_answer():
    cands = [_cand("Rome", 0.0, -1), _cand("Paris", 0.0, -1)]
    assert weighted_vote(cands) == "rome"
    assert weighted_scores([_cand("x", 0.0, -1), _cand("X.", 0.0, -1)], "uniform") == {"x": pytest.approx(1.0)}
