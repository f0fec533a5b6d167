"""One step of `make gpu-check`: a child process that may run for at most its time slice.

A benchmark that hangs or runs long must not eat the time of the others: each step runs in its own process
group, and when its slice is over the whole group (pytest's workers, a benchmark's helper processes) is
killed and the step is reported as stopped, with the tail of what it printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 3000


@dataclass
class StepResult:
    status: str
    """``ok``, ``failed`` (non-zero exit), ``timeout`` (stopped at its slice) or ``error`` (could not start)."""
    returncode: int | None
    seconds: float
    slice_s: float
    log: Path
    tail: str
    command: str = ""
    """The command as a person would retype it: run from ``cwd``, paths inside the checkout made relative."""

    def to_json(self) -> dict:
        return {"status": self.status, "returncode": self.returncode, "seconds": round(self.seconds, 2),
                "slice_s": round(self.slice_s, 1), "log": self.log.name, "command": self.command,
                "tail": self.tail}


def run_step(cmd: list[str], *, cwd: Path, env: dict[str, str], slice_s: float, log: Path) -> StepResult:
    """Run ``cmd`` with stdout and stderr into ``log``; kill its process group after ``slice_s`` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = readable(cmd, cwd)
    start = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ (cd {cwd} && {' '.join(cmd)})\n")
        out.flush()
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            return StepResult("error", None, 0.0, slice_s, log, f"could not start {cmd[0]}: {exc}", command)
        try:
            rc = proc.wait(timeout=slice_s)
            status = "ok" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            rc, status = None, "timeout"
    seconds = time.monotonic() - start
    if status == "timeout":
        with log.open("a", encoding="utf-8") as out:
            out.write(f"\n[gpu-check] stopped after its {slice_s:.0f} s slice\n")
    return StepResult(status, rc, seconds, slice_s, log, tail(log), command)


def readable(cmd: list[str], cwd: Path) -> str:
    """``python bench/bench.py ...`` rather than ``/abs/.venv/bin/python /abs/...``: the form for a report."""
    root = str(cwd.resolve())
    parts = ["python", *(a.replace(root + os.sep, "") for a in cmd[1:])]
    return " ".join(parts)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the step's whole process group, then SIGKILL to whatever of it is left 5 s later (the
    group outlives its leader, so a benchmark's worker processes are caught too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5.0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def tail(path: Path, chars: int = TAIL_CHARS) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return text[-chars:]
