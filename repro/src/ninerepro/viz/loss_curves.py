"""Loss curves from the training runtime's ``metrics.jsonl``: one panel per metric, train and val lines.

Each line of the file is a JSON object ``{"step": int, "split": "train"|"val", "time": float, <metric>:
float, ...}`` (see ``ninerepro.train.run_logger``). Non-numeric values are ignored, and so is ``time``
(wall-clock, not a metric). The file is opened for appending, so a resumed run may log a step twice;
the later record wins, which is the one from the run that carried on.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ninerepro.viz._figure import new_figure, save_figure

# key -> split -> step -> value
Series = dict[str, dict[str, dict[int, float]]]
_NOT_METRICS = {"step", "split", "time"}


def _parse_line(raw: bytes, where: str) -> dict | None:
    """One record, or None for a blank line; every problem is a ValueError that names ``where``."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise ValueError(f"{where}: not UTF-8 ({err}); metrics files are written as UTF-8 JSON lines") from None
    if not text:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: malformed JSON ({err.msg} at column {err.colno}); fix or delete the line") from None
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object per line, got {type(record).__name__}")
    step = record.get("step")
    if not isinstance(step, int) or isinstance(step, bool):
        raise ValueError(f"{where}: every record needs an integer 'step', got {step!r}")
    return record


def read_metrics_jsonl(path: str | os.PathLike) -> Series:
    """All numeric metrics of a metrics file as ``{key: {split: {step: value}}}``."""
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no metrics file; training writes it as <run_dir>/metrics.jsonl")
    series: Series = {}
    with open(source, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            record = _parse_line(raw, f"{source}:{line_no}")
            if record is None:
                continue
            split = str(record.get("split", "train"))
            for key, value in record.items():
                if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                series.setdefault(key, {}).setdefault(split, {})[record["step"]] = float(value)
    return series


def _select_keys(series: Series, keys: Sequence[str] | None, source: str) -> list[str]:
    if keys is None:
        if not series:
            raise ValueError(f"{source}: no numeric metrics to plot")
        return list(series)
    missing = [k for k in keys if k not in series]
    if missing:
        raise ValueError(f"{source}: no values for {missing}; the file has {sorted(series)}")
    return list(keys)


def loss_curves_figure(series: Series, keys: Sequence[str], log_scale: bool = False) -> Figure:
    """One panel per key (up to three per row), one line per split, steps on x."""
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig = new_figure(5 * ncols, 3.2 * nrows)
    for index, key in enumerate(keys):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        for split, points in sorted(series[key].items()):
            steps = np.array(sorted(points))
            values = np.array([points[s] for s in steps])
            ax.plot(steps, values, label=split, marker="o" if len(steps) < 30 else None, markersize=3)
        if log_scale:
            ax.set_yscale("log")
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return fig


def plot_loss_curves(
    metrics_jsonl: str | os.PathLike,
    out_png: str | os.PathLike,
    keys: Sequence[str] | None = None,
    log_scale: bool = False,
) -> Path:
    """Plot ``keys`` (default: every numeric metric in file order) from a metrics file into one PNG."""
    series = read_metrics_jsonl(metrics_jsonl)
    chosen = _select_keys(series, keys, str(metrics_jsonl))
    return save_figure(loss_curves_figure(series, chosen, log_scale), out_png)
