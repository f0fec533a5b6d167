"""ONNX export of the CRNN (features [B, n_mels, n_frames] -> keyword posterior [B]), checked by onnxruntime.

The graph takes features, not audio: the STFT and PCEN's recurrence stay in the host language, where every
runtime has them, and the exported part is exactly the module the tests compare. The batch axis is dynamic.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from crnn_kws.config import FeatureConfig
from crnn_kws.model import CRNN
from ninerepro.atomic import atomic_save


class Posterior(nn.Module):
    """The CRNN followed by the softmax, as one traceable module."""

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(features), dim=-1)  # [B, n_classes]


def onnx_bytes(model: CRNN, features: FeatureConfig) -> bytes:
    example = torch.zeros(2, features.n_mels, features.n_frames)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer's notes on shape checks and GRU batch sizes (tested below)
        warnings.simplefilter("ignore")
        torch.onnx.export(Posterior(model.eval()), (example,), buffer, input_names=["features"],
                          output_names=["posteriors"],
                          dynamic_axes={"features": {0: "batch"}, "posteriors": {0: "batch"}},
                          opset_version=17, dynamo=False)
    return buffer.getvalue()


def check_onnx(data: bytes, model: CRNN, features: FeatureConfig, seed: int = 0) -> float:
    """Max |onnxruntime - torch| of the posteriors on random PCEN-like features (batch 3)."""
    import onnxruntime as ort

    x = torch.rand(3, features.n_mels, features.n_frames, generator=torch.Generator().manual_seed(seed)) * 2
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"features": x.numpy()})
    with torch.no_grad():
        want = Posterior(model.eval())(x).numpy()
    return float(np.abs(got - want).max())


def export_onnx(model: CRNN, features: FeatureConfig, path: Path, tolerance: float = 1e-5) -> float:
    """Write ``path`` atomically after onnxruntime agrees with PyTorch within ``tolerance``; returns the error."""
    data = onnx_bytes(model, features)
    err = check_onnx(data, model, features)
    if not err <= tolerance:
        raise RuntimeError(f"ONNX export disagrees with PyTorch by {err:.3g} (> {tolerance:g}); not written")
    atomic_save(path, lambda f: f.write(data))
    return err
