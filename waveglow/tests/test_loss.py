"""The NLL: its formula, and that it is -log p(x) per sample, checked with a brute-force Jacobian."""

from __future__ import annotations

import math

import pytest
import torch

from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.loss import WaveGlowLoss
from waveglow.model import WaveGlow


def _micro_model() -> WaveGlow:
    cfg = WaveGlowModelConfig(n_mel_channels=3, n_flows=3, n_group=4, n_early_every=2, n_early_size=2,
                              wn=WNConfig(n_layers=2, n_channels=4), upsample_kernel=16, upsample_stride=8)
    torch.manual_seed(0)
    model = WaveGlow(cfg).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(0.3 * torch.randn_like(p)) if name.endswith(".W") else p.normal_(0.0, 0.4)
    return model


def test_loss_is_the_official_formula_per_audio_sample():
    z = torch.randn(2, 8, 10)
    log_s = [torch.randn(2, 4, 10), torch.randn(2, 3, 10)]
    log_det = [torch.tensor(1.5), torch.tensor(-0.25)]
    sigma = 0.7
    expected = ((z**2).sum() / (2 * sigma**2) - sum(s.sum() for s in log_s) - 1.25) / z.numel()
    torch.testing.assert_close(WaveGlowLoss(sigma)((z, log_s, log_det)), expected)


def test_log_determinant_equals_the_brute_force_jacobian():
    model = _micro_model()
    mel = torch.randn(1, 3, 2, dtype=torch.float64)
    audio = torch.randn(1, 16, dtype=torch.float64)

    def flow(x: torch.Tensor) -> torch.Tensor:
        return model(mel, x.view(1, -1))[0].reshape(-1)

    J = torch.autograd.functional.jacobian(flow, audio.reshape(-1), vectorize=True)  # [16, 16]
    _, log_s_list, log_det_W_list = model(mel, audio)
    analytic = sum(s.sum() for s in log_s_list) + sum(log_det_W_list)
    torch.testing.assert_close(analytic, torch.linalg.slogdet(J)[1], rtol=1e-9, atol=1e-9)


def test_nll_equals_minus_log_density_per_sample_up_to_the_gaussian_constant():
    model = _micro_model()
    mel = torch.randn(1, 3, 2, dtype=torch.float64)
    audio = torch.randn(1, 16, dtype=torch.float64)
    sigma = 0.8
    z = model(mel, audio)[0].reshape(-1)
    J = torch.autograd.functional.jacobian(lambda x: model(mel, x.view(1, -1))[0].reshape(-1), audio.reshape(-1))
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=z.dtype), torch.tensor(sigma, dtype=z.dtype))
    log_p = prior.log_prob(z).sum() + torch.linalg.slogdet(J)[1]
    constant = 16 * (0.5 * math.log(2 * math.pi) + math.log(sigma))
    nll = WaveGlowLoss(sigma)(model(mel, audio))
    torch.testing.assert_close(nll, (-log_p - constant) / 16, rtol=1e-9, atol=1e-9)


def test_loss_backpropagates_to_every_parameter():
    model = _micro_model().float()
    mel, audio = torch.randn(2, 3, 2), torch.randn(2, 16)
    WaveGlowLoss()(model(mel, audio)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan")])
def test_non_positive_training_sigma_is_refused(sigma):
    with pytest.raises(ValueError, match="sigma must be > 0"):
        WaveGlowLoss(sigma)
