"""The mel benchmark measures the same work for both contenders and reports consistent numbers."""

from __future__ import annotations

import numpy as np
import torch

from ninerepro.audio.bench import BenchResult, bench_mel, best_times, librosa_log_mel, main
from ninerepro.audio.mel import tacotron_mel
from ninerepro.audio.signals import speechlike


def test_the_librosa_contender_computes_the_same_log_mel_as_ours():
    wav = speechlike(0.5, 22050)
    assert np.max(np.abs(librosa_log_mel(wav) - tacotron_mel(wav))) < 1e-4


def test_bench_mel_reports_positive_times_and_a_consistent_ratio():
    wav = speechlike(0.3, 22050)
    result = bench_mel(wav, repeats=1)
    assert result.audio_seconds == len(wav) / 22050
    assert result.ours_s > 0 and result.librosa_s > 0
    assert abs(result.ratio - result.librosa_s / result.ours_s) < 1e-9


def test_the_ratio_says_how_many_times_faster_ours_is():
    assert BenchResult(audio_seconds=60.0, ours_s=1.0, librosa_s=3.0).ratio == 3.0


def test_best_times_keeps_the_minimum_of_each_contender():
    calls = []
    times = best_times([lambda: calls.append("a"), lambda: calls.append("b")], repeats=2, settle_s=0.0)
    assert calls == ["a", "b", "a", "b", "a", "b"] and all(t >= 0 for t in times)


def test_the_command_prints_both_throughputs_and_the_ratio(capsys):
    threads = torch.get_num_threads()
    try:
        assert main(["--seconds", "1", "--repeats", "1"]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "ours (audio s/s)" in out and "librosa (audio s/s)" in out and out.count("x\n") == 2
