"""ONNX export: onnxruntime's posteriors equal PyTorch's; the file is written only after the check."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch
from kws_testkit import config

import crnn_kws
from crnn_kws.export import Posterior, export_onnx


def test_onnxruntime_matches_torch_at_a_batch_size_other_than_the_traced_one(tmp_path):
    cfg = config("tiny")
    torch.manual_seed(0)
    model = crnn_kws.build_model(cfg)
    err = export_onnx(model, cfg.features, tmp_path / "kws.onnx")
    assert err < 1e-5
    x = torch.rand(5, cfg.features.n_mels, cfg.features.n_frames)
    (got,) = ort.InferenceSession(str(tmp_path / "kws.onnx")).run(None, {"features": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, Posterior(model)(x).numpy(), atol=1e-5)
    assert not list(tmp_path.glob(".*.tmp"))
