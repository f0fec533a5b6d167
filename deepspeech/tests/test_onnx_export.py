"""ONNX export of the acoustic model, checked with onnxruntime (skipped where the optional extra is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="onnx not installed: pip install -e './deepspeech[onnx]'")
pytest.importorskip("onnxruntime", reason="onnxruntime not installed: pip install -e './deepspeech[onnx]'")

from deepspeech.infer import Transcriber
from deepspeech.model import build_model
from deepspeech.onnx_export import export_onnx, main, max_abs_diff, onnx_session, random_padded_batch

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_exported_graph_matches_pytorch_at_other_batch_sizes_and_lengths(tmp_path):
    """Unidirectional GRU + row convolution (the deepspeech.pytorch fixture model), exported at 2 x 120 frames."""
    t = Transcriber.from_checkpoint(FIXTURES / "dsp_uni_gru.ckpt")
    path = export_onnx(t.model, tmp_path / "uni.onnx", t.cfg.features.n_bins)
    session = onnx_session(path)
    for frames in ([120, 80], [333], [57, 400, 211, 12]):  # dynamic batch and time, padded
        features, lengths = random_padded_batch(t.cfg.features.n_bins, frames, seed=len(frames))
        assert max_abs_diff(t.model, session, features, lengths) <= 1e-4


def test_a_bidirectional_lstm_exports_through_the_command_line_and_runs_at_any_batch_size(tmp_path, capsys):
    ckpt = FIXTURES / "dsp_bi_lstm.ckpt"
    assert main(["--checkpoint", str(ckpt), "--output", str(tmp_path / "bi.onnx")]) == 0
    assert "max |torch - onnx|" in capsys.readouterr().out
    t = Transcriber.from_checkpoint(ckpt)
    assert t.model.rnns[0].bidirectional and t.cfg.model.rnn_type == "lstm"
    session = onnx_session(tmp_path / "bi.onnx")
    for frames in ([50], [120, 80, 33, 20, 10]):
        features, lengths = random_padded_batch(t.cfg.features.n_bins, frames, seed=7)
        assert max_abs_diff(t.model, session, features, lengths) <= 1e-4


def test_ds1_is_refused_with_the_reason(tmp_path):
    from ds_testkit import tiny_config

    cfg = tiny_config("model.arch=ds1")
    with pytest.raises(ValueError, match="only DS2 models export"):
        export_onnx(build_model(cfg, 29), tmp_path / "ds1.onnx", cfg.features.n_bins)
    assert not (tmp_path / "ds1.onnx").exists()
