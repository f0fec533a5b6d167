"""Benchmark figures: the ratio always reads "above 1 means ours is better", and reports round-trip."""

import json

import pytest

from ninerepro.bench_report import BenchFigure, BenchReport, read_report


def test_ratio_of_a_throughput_is_ours_over_the_baseline():
    assert BenchFigure("synthesis", "kHz", 300.0, 100.0).ratio == pytest.approx(3.0)


def test_ratio_of_a_duration_is_the_baseline_over_ours():
    assert BenchFigure("step", "s", 0.5, 1.0, higher_is_better=False).ratio == pytest.approx(2.0)


def test_no_baseline_or_a_zero_gives_no_ratio_rather_than_inf():
    assert BenchFigure("x", "s", 1.0).ratio is None
    assert BenchFigure("x", "s", 0.0, 1.0, higher_is_better=False).ratio is None
    assert BenchFigure("x", "s", float("nan"), 1.0).ratio is None


def test_target_is_met_only_at_or_above_the_ratio():
    assert BenchFigure("x", "kHz", 2.0, 1.0, target=2.0).meets_target is True
    assert BenchFigure("x", "kHz", 1.9, 1.0, target=2.0).meets_target is False
    assert BenchFigure("x", "kHz", 1.9, None, target=2.0).meets_target is None


def test_report_round_trips_and_a_foreign_json_is_refused(tmp_path):
    report = BenchReport("waveglow", "cuda", official_source="NVIDIA/waveglow")
    report.add(BenchFigure("synthesis fp16", "kHz", 4.0, 1.0, target=2.0))
    path = report.write(tmp_path / "r.json")
    data = read_report(path)
    assert data["figures"][0]["ratio"] == pytest.approx(4.0) and data["figures"][0]["meets_target"] is True
    (tmp_path / "other.json").write_text(json.dumps({"figures": []}))
    with pytest.raises(ValueError, match="not a benchmark report"):
        read_report(tmp_path / "other.json")
