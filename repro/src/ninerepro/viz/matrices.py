"""Images of matrices: spectrograms ([n_bins, frames]) and attention alignments ([decoder, encoder]).

Both are drawn with the first axis upwards (``origin="lower"``) and time to the right, the way
Tacotron 2 papers and logs show them, so a healthy alignment is a rising diagonal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ninerepro.viz._figure import as_array, new_figure, save_figure


def spectrogram_figure(spec: Any, title: str | None = None, hop_seconds: float | None = None) -> Figure:
    """Figure of a [n_bins, frames] spectrogram; with ``hop_seconds`` the x axis is in seconds."""
    values = as_array(spec, "spec ([n_bins, frames])", ndim=2)
    n_bins, frames = values.shape
    fig = new_figure(10, 4)
    ax = fig.add_subplot()
    extent = None
    if hop_seconds is not None:
        if hop_seconds <= 0:
            raise ValueError(f"hop_seconds must be positive, got {hop_seconds}")
        extent = (0.0, frames * hop_seconds, 0.0, float(n_bins))
    image = ax.imshow(values, aspect="auto", origin="lower", interpolation="none", extent=extent)
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("time (s)" if hop_seconds is not None else "frame")
    ax.set_ylabel("channel")
    if title:
        ax.set_title(title)
    return fig


def plot_spectrogram(
    spec: Any, out_png: str | os.PathLike, title: str | None = None, hop_seconds: float | None = None
) -> Path:
    """Write a [n_bins, frames] spectrogram (numpy or torch) as a PNG and return its path."""
    return save_figure(spectrogram_figure(spec, title, hop_seconds), out_png)


def alignment_figure(attn: Any, title: str | None = None) -> Figure:
    """Figure of attention weights [decoder_steps, encoder_steps]: decoder on x, encoder on y."""
    weights = as_array(attn, "attn ([decoder_steps, encoder_steps]; pick one batch item, e.g. attn[0])", 2)
    fig = new_figure(6, 4)
    ax = fig.add_subplot()
    image = ax.imshow(weights.T, aspect="auto", origin="lower", interpolation="none")  # [encoder, decoder]
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("decoder timestep")
    ax.set_ylabel("encoder timestep")
    if title:
        ax.set_title(title)
    return fig


def plot_alignment(attn: Any, out_png: str | os.PathLike, title: str | None = None) -> Path:
    """Write an attention alignment [decoder_steps, encoder_steps] as a PNG and return its path."""
    return save_figure(alignment_figure(attn, title), out_png)


def alignment_image(attn: Any) -> Any:
    """[decoder_steps, encoder_steps] weights -> an H x W x 3 uint8 array (tokens up, frames across) for
    TensorBoard's ``add_image``: no matplotlib figure, so it is cheap enough to log at every validation."""
    import numpy as np

    a = as_array(attn, "attn ([decoder_steps, encoder_steps])", 2).T[::-1]
    a = (255 * a / max(float(a.max()), 1e-8)).astype(np.uint8)
    return np.repeat(a[:, :, None], 3, axis=2)
