"""The false-alarm rule of crnn_kws.metrics, edge case by edge case (the rule is stated in its docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from crnn_kws.metrics import (
    NoOperatingPointError,
    alarm_steps,
    fa_curve,
    fa_per_hour,
    max_smoothed,
    operating_point,
    smoothed,
)


def test_the_threshold_is_inclusive():
    assert alarm_steps([0.2, 0.5, 0.2], window=1, threshold=0.5, refractory_steps=10) == [1]
    assert alarm_steps([0.2, 0.4999, 0.2], window=1, threshold=0.5, refractory_steps=10) == []


def test_smoothing_averages_fewer_scores_at_the_start_of_a_stream():
    np.testing.assert_allclose(smoothed([1.0, 0.0, 0.0, 1.0], 3), [1.0, 0.5, 1 / 3, 1 / 3])
    # so a high first score fires at once, undiluted by steps that do not exist
    assert alarm_steps([0.9, 0.0, 0.0], window=3, threshold=0.9, refractory_steps=5) == [0]


def test_smoothing_hides_a_one_step_spike():
    spike = [0.0] * 10 + [1.0] + [0.0] * 10
    assert alarm_steps(spike, window=1, threshold=0.5, refractory_steps=5) == [10]
    assert alarm_steps(spike, window=3, threshold=0.5, refractory_steps=5) == []  # mean 1/3 < 0.5
    assert max_smoothed(spike, 3) == pytest.approx(1 / 3)


def test_a_score_that_stays_high_fires_again_after_each_lockout():
    assert alarm_steps([1.0] * 10, window=1, threshold=0.5, refractory_steps=3) == [0, 3, 6, 9]


def test_the_lockout_counts_from_fired_alarms_only():
    # crossings at 0, 2, 4: the one at 2 is suppressed (2 - 0 < 3) and must not restart the lockout,
    # so 4 fires (4 - 0 >= 3); had 2 restarted it, 4 - 2 < 3 would suppress 4 too
    scores = [1, 0, 1, 0, 1, 0, 0]
    assert alarm_steps(scores, window=1, threshold=0.5, refractory_steps=3) == [0, 4]
    # the boundary: t - t_last == refractory_steps fires
    assert alarm_steps([1, 0, 0, 1], window=1, threshold=0.5, refractory_steps=3) == [0, 3]
    assert alarm_steps([1, 0, 1], window=1, threshold=0.5, refractory_steps=3) == [0]


def test_zero_refractory_fires_at_every_crossing():
    assert alarm_steps([1, 1, 0, 1], window=1, threshold=0.5, refractory_steps=0) == [0, 1, 3]


def test_streams_are_independent_history_and_lockout_reset():
    end_high, start_high = [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]
    # as one stream the second alarm is locked out and smoothing mixes the two...
    assert alarm_steps(end_high + start_high, window=2, threshold=0.5, refractory_steps=5) == [2]
    # ...as two streams each fires once: 2 alarms over 6 steps of 0.5 h... per stream reset
    hop_s = 600.0  # 6 steps = 1 hour
    assert fa_per_hour([end_high, start_high], hop_s, window=2, threshold=0.5, refractory_steps=5) == pytest.approx(2.0)
    assert fa_per_hour([end_high + start_high], hop_s, window=2, threshold=0.5,
                       refractory_steps=5) == pytest.approx(1.0)


def test_fa_per_hour_divides_alarms_over_all_streams_by_total_hours():
    streams = [[1.0] + [0.0] * 9, [0.0] * 10, [0.0] * 4 + [1.0] + [0.0] * 5]
    # 30 steps of 0.1 s = 3 s = 1/1200 h, 2 alarms
    assert fa_per_hour(streams, 0.1, 1, 0.5, 3) == pytest.approx(2 * 1200)
    np.testing.assert_allclose(fa_curve(streams, [0.5, 1.0, 1.5], 0.1, 1, 3), [2400, 2400, 0])


def test_an_empty_negative_set_is_an_error_not_a_division_by_zero():
    with pytest.raises(ValueError, match="negative set is empty"):
        fa_per_hour([], 0.08, 3, 0.5, 19)
    with pytest.raises(ValueError, match="negative set is empty"):
        fa_per_hour([[]], 0.08, 3, 0.5, 19)


def test_the_operating_point_is_the_smallest_grid_threshold_meeting_the_target():
    negatives = [[0.1, 0.35, 0.1, 0.62, 0.1]]  # 5 steps of 720 s = 1 h
    positives = [0.9, 0.6, 0.3]
    grid = [0.0, 0.3, 0.4, 0.5, 0.7, 0.9]
    threshold, frr = operating_point(negatives, positives, grid, 1.0, 720.0, 1, 0)
    assert threshold == 0.4  # 0.3 gives 2 alarms/h, 0.4 gives 1
    assert frr == pytest.approx(1 / 3)  # 0.3 < 0.4; 0.6 and 0.9 detected (>=)
    threshold, frr = operating_point(negatives, positives, grid, 0.0, 720.0, 1, 0)
    assert (threshold, frr) == (0.7, pytest.approx(2 / 3))
    assert operating_point(negatives, [0.7], grid, 0.0, 720.0, 1, 0) == (0.7, 0.0)  # inclusive detection


def test_a_grid_that_never_meets_the_target_says_so_instead_of_returning_nan():
    with pytest.raises(NoOperatingPointError, match=r"no threshold in \[0, 0.5\] keeps false alarms at or below 0.5/h"):
        operating_point([[0.9] * 100], [0.95], [0.0, 0.5], 0.5, 0.08, 3, 19)


def test_the_logit_grid_resolves_posteriors_that_a_linear_grid_lumps_at_one():
    from crnn_kws.metrics import logit_grid

    grid = logit_grid(1001, -12.0, 30.0)
    assert grid.dtype == np.float64 and np.all(np.diff(grid) > 0) and grid[-1] < 1.0
    np.testing.assert_allclose(np.log(grid / (1 - grid)), np.linspace(-12, 30, 1001), atol=1e-2)
    # negatives at logit 9 (posterior 0.99988), positives at logit 12: no threshold of a 1001-point linear
    # grid lies between them, the logit grid has many
    neg, pos = 1 / (1 + np.exp(-9.0)), 1 / (1 + np.exp(-12.0))
    assert not np.any((np.linspace(0, 1, 1001) > neg) & (np.linspace(0, 1, 1001) <= pos))
    threshold, frr = operating_point([[neg] * 10], [pos, pos], grid, 0.0, 360.0, 1, 0)
    assert neg < threshold <= pos and frr == 0.0
    with pytest.raises(ValueError, match="min_logit < max_logit"):
        logit_grid(10, 5.0, 5.0)


def test_fa_curve_gives_zero_above_every_score_and_counts_below_it():
    streams = [[0.2, 0.9, 0.2, 0.95]]
    np.testing.assert_allclose(fa_curve(streams, [0.1, 0.9, 0.95, 0.96, 2.0], 900.0, 1, 0), [4, 2, 1, 0, 0])
