"""The ONNX synthesis graph gives PyTorch's audio under onnxruntime (CPU), for new batch and length."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from waveglow.checkpoint import load_checkpoint
from waveglow.export import export_onnx, noise_shape

ort = pytest.importorskip("onnxruntime")
FIXTURES = Path(__file__).parent / "fixtures"


def test_onnx_graph_matches_pytorch_for_a_new_batch_size_and_length(tmp_path):
    model = load_checkpoint(FIXTURES / "official_tiny.pt")  # randomised official weights: no identity layers
    path = export_onnx(model, tmp_path / "waveglow.onnx", frames=8)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(0)
    mel = torch.randn(3, 4, 11, generator=g) - 4.0
    z = 0.6 * torch.randn(noise_shape(model, 3, 11), generator=g)
    (audio,) = session.run(None, {"mel": mel.numpy(), "z": z.numpy()})
    with torch.no_grad():
        expected = model.reverse(mel, z)
    assert audio.shape == (3, 11 * 256)
    torch.testing.assert_close(torch.from_numpy(audio), expected, rtol=1e-4, atol=1e-5)


def test_onnx_graph_at_zero_noise_reproduces_the_official_sigma_zero_audio(tmp_path):
    official = torch.load(FIXTURES / "official_outputs.pt", weights_only=True)
    model = load_checkpoint(FIXTURES / "official_tiny.pt")
    session = ort.InferenceSession(str(export_onnx(model, tmp_path / "w.onnx")), providers=["CPUExecutionProvider"])
    mel = official["mel"]
    (audio,) = session.run(None, {"mel": mel.numpy(), "z": torch.zeros(noise_shape(model, 2, 6)).numpy()})
    torch.testing.assert_close(torch.from_numpy(audio), official["infer_sigma0"], rtol=1e-5, atol=1e-5)
