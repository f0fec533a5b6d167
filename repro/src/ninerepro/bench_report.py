"""Benchmark figures in one machine-readable form, so `make gpu-check` can gather every subproject's numbers.

Each ``bench/bench.py`` keeps its own markdown for people; with ``--json PATH`` it also writes the same
measurements as :class:`BenchFigure` records. The repository-wide GPU run (``tools/gpu_check.py``) reads those
files and builds one table, instead of scraping nine differently shaped markdown reports.

A figure's ``ratio`` is always oriented so that a value above 1 means ours is better (faster, or more work per
second), whatever the unit: that is the one number a reader compares with a target such as "≥ 2× official".
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ninerepro.atomic import atomic_write_text

SCHEMA = "ninerepro.bench/1"


@dataclass(frozen=True)
class BenchFigure:
    """One measured quantity, ours and (when the official code ran beside it) the official one."""

    name: str
    """What was measured, in words that stand alone in a table row, e.g. ``"synthesis fp16 batch 8"``."""
    unit: str
    """Unit of ``ours``/``official``, e.g. ``"kHz"``, ``"s"``, ``"queries/s"``."""
    ours: float
    official: float | None = None
    higher_is_better: bool = True
    """True for throughputs (kHz, tokens/s), False for durations (seconds per step)."""
    target: float | None = None
    """The issue's speed target as a ratio (ours better by this factor), or None where none is set."""
    baseline: str = "official"
    """What ``official`` is: the official implementation, or the named baseline where the paper has none."""
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        """ours ÷ official for throughputs, official ÷ ours for durations: above 1 means ours is better."""
        if self.official is None or not _positive(self.ours) or not _positive(self.official):
            return None
        return self.ours / self.official if self.higher_is_better else self.official / self.ours

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target

    def to_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "meets_target": self.meets_target}


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


@dataclass
class BenchReport:
    """Everything one benchmark run measured, with the context a number needs to be read (device, settings)."""

    subproject: str
    device: str
    figures: list[BenchFigure] = field(default_factory=list)
    official_source: str | None = None
    """Where the official code came from (a clone's path and commit), or None when only ours ran."""
    settings: dict = field(default_factory=dict)

    def add(self, figure: BenchFigure) -> None:
        self.figures.append(figure)

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA,
            "subproject": self.subproject,
            "device": self.device,
            "official_source": self.official_source,
            "settings": self.settings,
            "figures": [f.to_json() for f in self.figures],
        }

    def write(self, path: str | os.PathLike) -> Path:
        """Write atomically: gpu-check may stop a benchmark at its time limit, and must never read half a file."""
        return atomic_write_text(path, json.dumps(self.to_json(), indent=2) + "\n")


def read_report(path: str | os.PathLike) -> dict:
    """Load a report written by :meth:`BenchReport.write`; a file of another schema is refused by name."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a benchmark report of schema {SCHEMA} (found {data.get('schema')!r})")
    return data


def results_markdown(report: BenchReport, env: dict[str, str], command: str, title: str,
                     notes: list[str] | None = None) -> str:
    """One ``bench/RESULTS.md`` section: title, command, environment, notes, and the figures as a table."""
    lines = [f"## {env['date']} · {report.device} · {title}", "", f"`{command}`", "",
             f"load {env['load']} · torch {env['torch']} · Python {env['python']} · git {env['git']}"
             + (f" · official {report.official_source}" if report.official_source else ""), ""]
    for note in notes or []:
        lines += [note, ""]
    lines += ["| figure | unit | ours | official | ratio (> 1: ours better) | target |", "|---|---|---|---|---|---|"]
    for f in report.figures:
        off = "—" if f.official is None else f"{f.official:.4g}"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}×"
        target = "—" if f.target is None else f"≥ {f.target:g}×"
        lines.append(f"| {f.name} | {f.unit} | {f.ours:.4g} | {off} | {ratio} | {target} |")
    return "\n".join(lines) + "\n\n"
