"""Where a number was measured: machine, software versions, git commit, date (style rule 15).

Every benchmark, demo report and load test stamps its table through ``describe()``, so numbers from the
nine subprojects name their environment the same way.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path


def cpu_name() -> str:
    """The CPU model string from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    """``device`` in words: the GPU's name for CUDA, the CPU model and core count for CPU."""
    import os

    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{cpu_name()} ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def git_hash(cwd: str | Path | None = None) -> str:
    """Short hash of HEAD, with ``+dirty`` when tracked files differ from it; ``unknown`` outside git."""
    cwd = Path(cwd or Path(__file__).parent)
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        # the whole checkout, not just `cwd`: a change anywhere in the repo can change a measured number
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load_average() -> str:
    """1-minute load average over the core count: on a shared machine, the context every timing needs."""
    import os

    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def describe(device: str = "cpu") -> dict[str, str]:
    """One dict with date, device, load, torch and Python versions and git hash, for table headers."""
    import torch

    return {
        "load": load_average(),
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "device": device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "git": git_hash(),
    }
