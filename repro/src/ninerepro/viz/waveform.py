"""Waveform plots: amplitude over time, to spot clipping, silence or DC offset at a glance."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ninerepro.viz._figure import as_array, new_figure, save_figure


def waveform_figure(wav: Any, sample_rate: int | None = None, title: str | None = None) -> Figure:
    """Figure of a mono waveform [T]; with ``sample_rate`` the x axis is in seconds."""
    samples = as_array(wav, "wav ([T] mono samples)", ndim=1)
    if sample_rate is not None and sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    x = np.arange(samples.size) / sample_rate if sample_rate else np.arange(samples.size)
    fig = new_figure(10, 2.5)
    ax = fig.add_subplot()
    ax.plot(x, samples, linewidth=0.5)
    ax.set_xlim(x[0], x[-1] if samples.size > 1 else x[0] + 1)
    ax.set_xlabel("time (s)" if sample_rate else "sample")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    return fig


def plot_waveform(
    wav: Any, out_png: str | os.PathLike, sample_rate: int | None = None, title: str | None = None
) -> Path:
    """Write a mono waveform [T] (numpy or torch) as a PNG and return its path."""
    return save_figure(waveform_figure(wav, sample_rate, title), out_png)
