"""The bounded load test: fixed counts, a time cap, and batching that pays off when a forward has overhead."""

from __future__ import annotations

import time

import numpy as np

from deepspeech.serving.loadtest import SettingResult, markdown_table, run_loadtest, synthetic_utterance


class OverheadModel:
    """Costs 25 ms per forward plus 1 ms per utterance: the shape of a real GPU/CPU forward pass, where a
    batch of B is much cheaper than B single forwards. Batched serving must then win under load."""

    def __call__(self, wavs):
        time.sleep(0.025 + 0.001 * len(wavs))
        return ["hello world"] * len(wavs)


def test_the_synthetic_utterance_is_deterministic_non_silent_and_the_requested_length():
    a, b = synthetic_utterance(1.5), synthetic_utterance(1.5)
    assert a.dtype == np.float32 and a.shape == (24000,)
    assert np.array_equal(a, b) and 0.05 < np.abs(a).max() <= 1.0


def test_batched_serving_beats_unbatched_at_ten_streams_and_each_setting_sends_exactly_its_count():
    results = run_loadtest(OverheadModel(), synthetic_utterance(0.2), streams=(1, 10), n_requests=24,
                           duration_s=20.0, max_batch=16, max_wait_ms=5.0)
    by = {(r.mode, r.streams): r for r in results}
    assert sorted(by) == [("batched", 1), ("batched", 10), ("unbatched", 1), ("unbatched", 10)]
    assert all(r.completed == 24 and not r.errors for r in results)
    assert by["unbatched", 10].mean_batch == 1.0 and by["batched", 10].mean_batch > 3
    assert by["batched", 10].requests_per_s > 2 * by["unbatched", 10].requests_per_s
    assert by["batched", 10].percentile_ms(50) < by["unbatched", 10].percentile_ms(50)
    assert by["batched", 1].audio_per_s == by["batched", 1].requests_per_s * 0.2


def test_the_time_cap_stops_a_setting_before_its_request_count():
    def slow(wavs):
        time.sleep(0.2)
        return [""] * len(wavs)

    start = time.perf_counter()
    results = run_loadtest(slow, synthetic_utterance(0.1), streams=(2,), n_requests=1000, duration_s=0.5)
    assert time.perf_counter() - start < 5.0
    assert all(0 < r.completed < 20 for r in results)


def test_the_table_has_one_row_per_setting_and_the_throughput_ratio():
    rows = [SettingResult("batched", 4, 2.0, 1.5, [10.0, 20.0, 30.0, 40.0], [2, 2, 4, 4]),
            SettingResult("unbatched", 4, 4.0, 1.5, [50.0, 60.0, 70.0, 80.0], [1, 1, 1, 1])]
    table = markdown_table(rows)
    assert "| batched | 4 | 4 | 0 | 2.0 | 3.0 | 25 | 39 | 3.0 |" in table
    assert "| unbatched | 4 | 4 | 0 | 1.0 | 1.5 | 65 | 79 | 1.0 |" in table
    assert "4 streams 2.00x" in table


def test_rounds_split_a_settings_requests_and_pool_the_results():
    results = run_loadtest(OverheadModel(), synthetic_utterance(0.1), streams=(2,), n_requests=7, rounds=3,
                           duration_s=20.0)
    assert [r.completed for r in results] == [7, 7]
    assert all(r.elapsed_s > 0 for r in results)
