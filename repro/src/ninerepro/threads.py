"""How many torch threads a CPU job should use on a machine it may share.

torch's intra-op worker threads spin while waiting for each other, so on a loaded machine a second thread
costs more than it gives. Measured with WaveGlow's tiny config on 2 cores: at load 1.9 a training step took
3.7 s with 2 threads and 0.55 s with 1; with heavier load, 3x the CPU time and 4x the wall time. Demos and
benchmarks therefore take one thread per idle core.
"""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)


def pick_threads() -> int:
    """Set and return as many torch threads as there are idle cores (cores minus the load average), >= 1."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = max(1, min(cores, round(cores - load)))
    torch.set_num_threads(threads)
    log.info("using %d torch thread(s) (%d cores, load %.1f)", threads, cores, load)
    return threads
