"""ONNX export of WaveGlow synthesis, with the Gaussian noise z as an explicit input.

Taking z as an input (instead of drawing it inside the graph) keeps the graph deterministic, so it can be
checked against PyTorch number for number, and lets the runtime choose sigma and the random source:
``audio = graph(mel, sigma * randn(B, n_group, frames * hop / n_group))``. The exported path is the
inference form (``WaveGlow.for_inference()``: weight norm removed, inverse 1x1 convs and folded skip/end
convs as constants).
Batch size and frame count are dynamic axes. We use the TorchScript-based exporter (``dynamo=False``): the
dynamo exporter needs the extra ``onnxscript`` package and gains nothing for this static graph.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from waveglow.inference_model import WaveGlowInference
from waveglow.model import WaveGlow


class SynthesisGraph(nn.Module):
    """``forward(mel [B, n_mel, F], z [B, n_group, F * hop / n_group]) -> audio [B, F * hop]``."""

    def __init__(self, waveglow: WaveGlow | WaveGlowInference) -> None:
        super().__init__()
        self.waveglow = waveglow.for_inference()

    def forward(self, mel: Tensor, z: Tensor) -> Tensor:
        return self.waveglow.reverse_unchecked(mel, z)


def noise_shape(waveglow: WaveGlow | WaveGlowInference, batch: int, frames: int) -> tuple[int, int, int]:
    cfg = waveglow.cfg
    return (batch, cfg.n_group, frames * cfg.upsample_stride // cfg.n_group)


def export_onnx(waveglow: WaveGlow | WaveGlowInference, path: str | os.PathLike, frames: int = 16,
                opset: int = 17) -> Path:
    """Write the synthesis graph to ``path`` (fp32, CPU) and return the path."""
    graph = SynthesisGraph(waveglow.float().cpu()).eval()
    mel = torch.zeros(1, waveglow.cfg.n_mel_channels, frames)
    z = torch.zeros(noise_shape(waveglow, 1, frames))
    path = Path(path)
    with torch.no_grad(), warnings.catch_warnings():
        # The boundary checks in reverse() are Python ifs on shapes; tracing warns that they become constants.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # legacy exporter chosen on purpose
        torch.onnx.export(
            graph, (mel, z), str(path), input_names=["mel", "z"], output_names=["audio"], opset_version=opset,
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "z": {0: "batch", 2: "groups"},
                          "audio": {0: "batch", 1: "samples"}},
            dynamo=False,
        )
    return path
