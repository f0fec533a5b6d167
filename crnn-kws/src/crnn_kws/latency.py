"""CPU cost per 10 ms hop of both streaming forms, on one thread (the issue's target: < 1 ms on one core)."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator

import numpy as np
import torch

from crnn_kws.detector import Detector
from crnn_kws.streaming import StreamingDetector, time_per_hop_streaming


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_per_hop_sliding(det: Detector, repeats: int = 30) -> dict[str, float]:
    """Milliseconds per 10 ms hop of the sliding window: one window's features + forward, over hop_frames."""
    wav = (np.random.default_rng(0).standard_normal((1, det.cfg.features.window_samples)) * 0.05)
    wav = wav.astype(np.float32)
    times = []
    for _ in range(repeats + 3):
        start = time.perf_counter()
        det.score_windows(wav, batch=1)
        times.append(time.perf_counter() - start)
    per_decision = statistics.median(times[3:])
    hop_frames = det.cfg.eval.hop_frames
    return {"mean_ms": 1e3 * per_decision / hop_frames, "per_decision_ms": 1e3 * per_decision,
            "hop_frames": hop_frames}


def latency_report(bidirectional: Detector, unidirectional: StreamingDetector) -> dict[str, dict[str, float]]:
    with one_thread():
        return {"sliding_window_bidirectional": time_per_hop_sliding(bidirectional),
                "carried_state_unidirectional": time_per_hop_streaming(unidirectional)}
