"""R@k and MRR on hand-computed rankings, the skip rule for queries without positives, and bad arguments."""

from __future__ import annotations

import math

import pytest

from ninerepro.metrics import recall_at_k, reciprocal_rank, retrieval_metrics


def test_recall_at_k_counts_the_share_of_positives_inside_the_top_k():
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "z"}, 1) == 0.0
    assert recall_at_k(ranked, {"b", "z"}, 2) == 0.5
    assert recall_at_k(ranked, {"a", "c", "d"}, 3) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, {"a", "d"}, 100) == 1.0  # k beyond the list length is the whole list


def test_reciprocal_rank_uses_the_first_positive_and_is_zero_when_none_is_retrieved():
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert reciprocal_rank(["a"], {"z"}) == 0.0
    assert reciprocal_rank([], {"z"}) == 0.0


def test_retrieval_metrics_average_over_queries_and_skip_those_without_positives():
    m = retrieval_metrics([(["a", "b"], {"a"}), (["a", "b"], set()), (["x", "y", "b"], {"b", "q"})], ks=(1, 3))
    assert m["n"] == 2
    assert m["R@1"] == pytest.approx((1.0 + 0.0) / 2)
    assert m["R@3"] == pytest.approx((1.0 + 0.5) / 2)
    assert m["MRR"] == pytest.approx((1.0 + 1 / 3) / 2)
    assert set(m) == {"R@1", "R@3", "MRR", "n"}


def test_retrieval_metrics_accept_a_generator_of_queries_with_integer_ids():
    m = retrieval_metrics(((list(range(10)), {i}) for i in range(10)), ks=(1, 10))
    assert m["n"] == 10 and m["R@1"] == pytest.approx(0.1) and m["R@10"] == 1.0
    assert m["MRR"] == pytest.approx(sum(1 / r for r in range(1, 11)) / 10)


def test_an_evaluation_without_scorable_queries_is_nan_not_a_score():
    for queries in ([], [(["a"], set())]):
        m = retrieval_metrics(queries)
        assert m["n"] == 0 and math.isnan(m["R@1"]) and math.isnan(m["R@10"]) and math.isnan(m["MRR"])


def test_bad_cut_offs_and_empty_positive_sets_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="k must be >= 1"):
        recall_at_k(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="without positives"):
        recall_at_k(["a"], set(), 1)
    with pytest.raises(ValueError, match="cut-offs"):
        retrieval_metrics([(["a"], {"a"})], ks=())
    with pytest.raises(ValueError, match="cut-offs"):
        retrieval_metrics([(["a"], {"a"})], ks=(0,))
