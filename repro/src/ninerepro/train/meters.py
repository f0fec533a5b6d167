"""Throughput meters: samples/s, tokens/s and audio-seconds/s over a sliding window of steps.

Papers report speed in their own unit (WaveGlow kHz of audio, LMs tokens/s, ASR hours of audio per
hour), so the trainer counts all three from what each step says it processed.
"""

from __future__ import annotations

import time
from collections import deque


class ThroughputMeter:
    def __init__(self, window: int = 50) -> None:
        self.events: deque[tuple[float, dict[str, float]]] = deque(maxlen=window + 1)
        self.events.append((time.perf_counter(), {}))

    def update(self, **counts: float) -> None:
        """Record what one step processed, e.g. ``update(samples=32, tokens=4096, audio_seconds=210.5)``."""
        self.events.append((time.perf_counter(), dict(counts)))

    def rates(self) -> dict[str, float]:
        """Per-second rates over the window, keyed ``<name>_per_s``."""
        if len(self.events) < 2:
            return {}
        elapsed = self.events[-1][0] - self.events[0][0]
        if elapsed <= 0:
            return {}
        sums: dict[str, float] = {}
        for _, counts in list(self.events)[1:]:
            for k, v in counts.items():
                sums[k] = sums.get(k, 0.0) + v
        return {f"{k}_per_s": v / elapsed for k, v in sums.items()}
