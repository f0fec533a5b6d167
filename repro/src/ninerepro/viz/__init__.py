"""Figures as PNG files (and as arrays for TensorBoard), headless and without pyplot's global state.

Every ``plot_*`` function writes its PNG atomically and returns the path; the matching ``*_figure``
builder returns the matplotlib Figure, which ``figure_to_array`` turns into [H, W, 3] uint8 pixels.
"""

from ninerepro.viz._figure import figure_to_array, save_figure
from ninerepro.viz.det import det_figure, plot_det_curve, plot_det_curves
from ninerepro.viz.loss_curves import loss_curves_figure, plot_loss_curves, read_metrics_jsonl
from ninerepro.viz.matrices import alignment_figure, plot_alignment, plot_spectrogram, spectrogram_figure
from ninerepro.viz.table import format_cell, markdown_table, save_table_png
from ninerepro.viz.waveform import plot_waveform, waveform_figure

__all__ = [
    "alignment_figure",
    "det_figure",
    "figure_to_array",
    "format_cell",
    "loss_curves_figure",
    "markdown_table",
    "plot_alignment",
    "plot_det_curve",
    "plot_det_curves",
    "plot_loss_curves",
    "plot_spectrogram",
    "plot_waveform",
    "read_metrics_jsonl",
    "save_figure",
    "save_table_png",
    "spectrogram_figure",
    "waveform_figure",
]
