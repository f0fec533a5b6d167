"""Detection error tradeoff (DET) curves for keyword spotting: false rejections vs false alarms per hour.

Keyword-spotting papers report the false rejection rate at a fixed false-alarm rate per hour of
background audio, so the x axis is false alarms per hour on a log scale and the y axis is FRR in percent.
Points with zero false alarms cannot sit on a log axis and are left out of the line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ninerepro.viz._figure import as_array, new_figure, save_figure


def _curve(frr: Any, fa_per_hour: Any, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated (false alarms per hour, FRR) of one curve, sorted by false alarms, zeros dropped."""
    rejections = as_array(frr, f"frr of {label!r}", ndim=1)
    alarms = as_array(fa_per_hour, f"fa_per_hour of {label!r}", ndim=1)
    if rejections.shape != alarms.shape:
        raise ValueError(f"curve {label!r}: frr has {rejections.size} points but fa_per_hour has {alarms.size}")
    if np.any((rejections < 0) | (rejections > 1)):
        raise ValueError(f"curve {label!r}: frr must be a fraction in [0, 1], not a percentage")
    if np.any(alarms < 0):
        raise ValueError(f"curve {label!r}: fa_per_hour must be non-negative")
    keep = alarms > 0
    if not np.any(keep):
        raise ValueError(f"curve {label!r}: every point has 0 false alarms/hour; a log axis cannot show it")
    order = np.argsort(alarms[keep], kind="stable")
    return alarms[keep][order], rejections[keep][order]


def det_figure(
    curves: Mapping[str, tuple[Any, Any]], title: str | None = None, mark_fa_per_hour: float | None = None
) -> Figure:
    """Figure with one DET line per ``{label: (frr, fa_per_hour)}``; optionally a vertical operating line."""
    if not curves:
        raise ValueError("det_figure needs at least one curve")
    fig = new_figure(6, 4.5)
    ax = fig.add_subplot()
    for label, (frr, fa_per_hour) in curves.items():
        alarms, rejections = _curve(frr, fa_per_hour, label)
        ax.plot(alarms, 100.0 * rejections, label=label)
    if mark_fa_per_hour is not None:
        ax.axvline(mark_fa_per_hour, color="gray", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("false alarms per hour")
    ax.set_ylabel("false rejection rate (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def plot_det_curve(
    frr: Sequence[float] | Any,
    fa_per_hour: Sequence[float] | Any,
    out_png: str | os.PathLike,
    label: str = "model",
    title: str | None = None,
) -> Path:
    """Write one DET curve (FRR as fractions, false alarms per hour) as a PNG and return its path."""
    return save_figure(det_figure({label: (frr, fa_per_hour)}, title), out_png)


def plot_det_curves(
    curves: Mapping[str, tuple[Any, Any]],
    out_png: str | os.PathLike,
    title: str | None = None,
    mark_fa_per_hour: float | None = None,
) -> Path:
    """Write several labelled DET curves ``{label: (frr, fa_per_hour)}`` into one PNG."""
    return save_figure(det_figure(curves, title, mark_fa_per_hour), out_png)
