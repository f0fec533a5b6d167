"""WaveGlow's training objective: the negative log-likelihood of the audio under the flow.

With z = f(x) and a spherical Gaussian prior of std sigma, -log p(x) equals, up to constants,
``sum(z^2) / (2 sigma^2) - sum_k sum(log_s_k) - sum_k log|det W_k|``. glow.py divides this by the number of
audio samples in the batch (B * n_group * T'), so the value is per sample and independent of the crop
length; it becomes negative during normal training (about -5 to -6 on LJSpeech), which is expected.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from waveglow.model import at_least_fp32


class WaveGlowLoss(nn.Module):
    """NLL per audio sample of ``WaveGlow.forward``'s output (constant terms dropped, as glow.py)."""

    def __init__(self, sigma: float = 1.0) -> None:
        super().__init__()
        if not sigma > 0:
            raise ValueError(f"WaveGlowLoss: sigma must be > 0 (training default 1.0), got {sigma}")
        self.sigma = sigma

    def forward(self, model_output: tuple[Tensor, list[Tensor], list[Tensor]]) -> Tensor:
        z, log_s_list, log_det_W_list = model_output
        # Sums in fp32: under fp16 autocast the per-element terms are half, their sums over ~100k values not.
        prior = torch.sum(at_least_fp32(z) ** 2) / (2 * self.sigma**2)
        log_s_total = sum(torch.sum(at_least_fp32(log_s)) for log_s in log_s_list)
        log_det_W_total = sum(at_least_fp32(log_det_W) for log_det_W in log_det_W_list)
        return (prior - log_s_total - log_det_W_total) / z.numel()
