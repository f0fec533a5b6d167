"""EM as the official evaluator scores it, on the cases where normalisation decides the outcome."""

from __future__ import annotations

import pytest

from closedbook_qa.metrics import exact_match, mean_exact_match, normalize_answer


@pytest.mark.parametrize(("pred", "gold", "hit"), [
    ("The Beatles", ["Beatles"], True),                 # leading article dropped
    ("a cat", ["cat"], True),
    ("Theory", ["ory"], False),                          # "the" only as a whole word
    ("Paris.", ["paris"], True),                         # punctuation deleted
    ("U.S.A.", ["USA"], True),
    ("Eiffel-Tower", ["eiffel tower"], False),           # hyphen deleted, not spaced: "eiffeltower"
    ("$100", ["100"], True),                             # "$" is ASCII punctuation
    ("€100", ["100"], False),                            # "€" is not: kept
    ("£5", ["5"], False),
    ("Brasília", ["Brasilia"], False),                   # no Unicode folding
    ("Brasília", ["Brasilia", "Brasília"], True),        # max over aliases
    ("it’s", ["its"], False),                           # curly apostrophe is not ASCII punctuation
    ("it's", ["its"], True),
    ("  New   York  ", ["new york"], True),              # whitespace collapsed
    ("", [""], True),
    ("AC/DC", ["ACDC"], True),
])
def test_exact_match_follows_squad_normalisation(pred, gold, hit):
    assert exact_match(pred, gold) is hit


def test_normalize_answer_drops_articles_after_punctuation():
    assert normalize_answer("The, the-end of an Era!") == "theend of era"


def test_an_empty_gold_list_is_an_error_and_the_corpus_score_names_the_question():
    with pytest.raises(ValueError, match="empty"):
        exact_match("x", [])
    with pytest.raises(ValueError, match="'q7'"):
        mean_exact_match({"q7": "x"}, {"q7": []})
    with pytest.raises(TypeError, match="list"):
        exact_match("x", "x")


def test_mean_exact_match_counts_missing_predictions_as_wrong():
    assert mean_exact_match({"a": "Paris"}, {"a": ["Paris"], "b": ["Rome"]}) == 0.5
