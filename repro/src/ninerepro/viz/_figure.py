"""Figure plumbing shared by every plot: headless figures, atomic PNG writes, figures as RGB arrays.

We build ``matplotlib.figure.Figure`` objects with an Agg canvas directly instead of using pyplot, so no
global figure registry or GUI backend is touched: plots work in training workers, on servers without a
display, and never leak memory through figures that pyplot keeps alive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ninerepro.atomic import atomic_open

DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches with its own Agg canvas (pixels = inches * 100)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, out_png: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG atomically (temp file beside the target, then rename) and return the path.

    The pixel size is exactly figsize * dpi (no tight bounding box), so callers can rely on it.
    """
    target = Path(out_png)
    if target.suffix.lower() != ".png":
        raise ValueError(f"{target}: figures are written as PNG; give the output a .png suffix")
    with atomic_open(target, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI)
    return target


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render ``fig`` and return its pixels as [H, W, 3] uint8 RGB, e.g. for TensorBoard ``add_image``."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # [H, W, 4]
    return rgba[:, :, :3].copy()


def as_array(value: Any, name: str, ndim: int) -> np.ndarray:
    """``value`` (numpy, torch or list) as a float numpy array with exactly ``ndim`` dimensions."""
    if hasattr(value, "detach"):  # torch.Tensor without importing torch
        value = value.detach().cpu().float().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(array.shape)}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)}); there is nothing to plot")
    return array
