"""Wall-clock timing for benchmarks that compare implementations side by side.

Timings alternate between the implementations step by step, so a change in machine load (a shared CI box,
thermal throttling, another job) hits every implementation alike rather than whichever ran at that moment,
and CUDA is synchronised around each call so asynchronous kernels are counted where they run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def interleaved_times(
    fns: dict[str, Callable[[], object]], device: torch.device | str = "cpu", *, repeats: int = 5, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each function, measured in alternation after ``warmup`` untimed rounds."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    device = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(warmup + repeats):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def median_seconds(
    fns: dict[str, Callable[[], object]], device: torch.device | str = "cpu", *, repeats: int = 5, warmup: int = 1
) -> dict[str, float]:
    """Median of :func:`interleaved_times` per function: robust to the odd slow call on a shared machine."""
    return {name: statistics.median(t) for name, t in interleaved_times(fns, device, repeats=repeats,
                                                                        warmup=warmup).items()}
