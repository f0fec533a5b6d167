"""Side-by-side timing alternates implementations and skips warm-up rounds."""

import time

import pytest

from ninerepro.timing import interleaved_times, median_seconds


def test_calls_alternate_and_warmup_is_not_timed():
    order = []
    times = interleaved_times({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=2, warmup=1)
    assert order == ["a", "b"] * 3
    assert [len(t) for t in times.values()] == [2, 2]


def test_the_slower_function_gets_the_larger_median():
    med = median_seconds({"fast": lambda: None, "slow": lambda: time.sleep(0.01)}, repeats=3)
    assert med["slow"] >= 0.009 > med["fast"]


def test_zero_repeats_is_refused():
    with pytest.raises(ValueError, match="repeats"):
        interleaved_times({"a": lambda: None}, repeats=0)
