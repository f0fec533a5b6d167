"""Each plot writes a real PNG of the expected pixel size, atomically, and rejects bad input clearly."""

import matplotlib.image
import numpy as np
import pytest
import torch

from ninerepro.viz import (
    alignment_figure,
    figure_to_array,
    plot_alignment,
    plot_det_curve,
    plot_det_curves,
    plot_spectrogram,
    plot_waveform,
    save_table_png,
    spectrogram_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _read_png(path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)  # [H, W, 4] floats


def _no_temp_files_left(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_spectrogram_png_is_ten_by_four_inches_at_100_dpi(tmp_path):
    spec = np.random.default_rng(0).standard_normal((80, 120))
    out = plot_spectrogram(spec, tmp_path / "mel.png", title="mel", hop_seconds=256 / 22050)
    assert out == tmp_path / "mel.png"
    assert _read_png(out).shape[:2] == (400, 1000)
    assert _no_temp_files_left(tmp_path)


def test_spectrogram_accepts_a_torch_tensor_and_creates_missing_folders(tmp_path):
    out = plot_spectrogram(torch.randn(80, 30), tmp_path / "a" / "b" / "mel.png")
    assert _read_png(out).shape[:2] == (400, 1000)


def test_alignment_puts_the_encoder_on_the_y_axis(tmp_path):
    attn = np.zeros((50, 20))  # [decoder_steps, encoder_steps]
    fig = alignment_figure(attn)
    image = fig.axes[0].get_images()[0]
    assert image.get_array().shape == (20, 50)  # encoder rows, decoder columns
    assert fig.axes[0].get_ylabel() == "encoder timestep"
    assert _read_png(plot_alignment(attn, tmp_path / "align.png")).shape[:2] == (400, 600)


def test_a_batched_alignment_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match=r"attn\[0\]"):
        alignment_figure(np.zeros((2, 50, 20)))


def test_det_curve_uses_a_log_x_axis_and_percent_frr(tmp_path):
    out = plot_det_curve([0.3, 0.1, 0.05, 0.2], [0.1, 1.0, 10.0, 0.0], tmp_path / "det.png")
    assert _read_png(out).shape[:2] == (450, 600)
    curves = {"a": ([0.2, 0.1], [0.5, 2.0]), "b": ([0.3, 0.2], [0.5, 2.0])}
    assert _read_png(plot_det_curves(curves, tmp_path / "dets.png", mark_fa_per_hour=0.5)).shape[:2] == (450, 600)


def test_det_curve_rejects_percentages_and_all_zero_false_alarms(tmp_path):
    with pytest.raises(ValueError, match="fraction in"):
        plot_det_curve([30.0, 10.0], [0.1, 1.0], tmp_path / "det.png")
    with pytest.raises(ValueError, match="0 false alarms"):
        plot_det_curve([0.3, 0.1], [0.0, 0.0], tmp_path / "det.png")
    assert not (tmp_path / "det.png").exists()


def test_waveform_png(tmp_path):
    wav = np.sin(np.linspace(0, 100, 22050))
    assert _read_png(plot_waveform(wav, tmp_path / "wav.png", sample_rate=22050)).shape[:2] == (250, 1000)


def test_table_png(tmp_path):
    rows = [{"model": "ours", "wer": 0.1}, {"model": "paper", "wer": 0.12}]
    image = _read_png(save_table_png(rows, tmp_path / "table.png", title="WER"))
    assert image.shape[:2] == (185, 400)


def test_figure_to_array_gives_rgb_uint8_of_the_figure_size():
    pixels = figure_to_array(spectrogram_figure(np.ones((4, 5))))
    assert pixels.shape == (400, 1000, 3) and pixels.dtype == np.uint8
    assert pixels.min() < 255  # something was drawn


def test_a_non_png_suffix_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"\.png suffix"):
        plot_spectrogram(np.ones((4, 5)), tmp_path / "mel.jpg")


def test_a_failed_write_leaves_an_existing_png_untouched(tmp_path):
    out = plot_spectrogram(np.ones((4, 5)), tmp_path / "mel.png")
    before = out.read_bytes()
    with pytest.raises(ValueError):
        plot_spectrogram(np.ones((4, 5, 6)), out)
    assert out.read_bytes() == before and _no_temp_files_left(tmp_path)
