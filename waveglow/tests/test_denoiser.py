"""The denoiser removes the model's bias (its zero-mel output) and leaves audio alone at strength 0."""

from __future__ import annotations

import pytest
import torch

from ninerepro.audio.stft import STFT
from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.denoiser import Denoiser
from waveglow.model import WaveGlow


@pytest.fixture(scope="module")
def model() -> WaveGlow:
    torch.manual_seed(0)
    cfg = WaveGlowModelConfig(n_mel_channels=8, n_flows=2, n_early_every=4, wn=WNConfig(n_layers=2, n_channels=8))
    m = WaveGlow(cfg)
    with torch.no_grad():
        for p in (m.WN[0].end.bias, m.WN[1].end.bias, m.upsample.bias):
            p.normal_(0.0, 0.2)  # a constant offset: the "hum" a trained model adds
    return m.prepare_for_inference()


def test_bias_spectrum_is_the_first_frame_of_the_zero_mel_synthesis(model):
    denoiser = Denoiser(model)
    bias_audio = model.infer(torch.zeros(1, 8, 88), sigma=0.0)
    expected = STFT(1024, 256, 1024).transform(bias_audio)[0][:, :, :1]
    torch.testing.assert_close(denoiser.bias_spec, expected)


def test_denoising_the_bias_itself_removes_most_of_its_energy(model):
    denoiser = Denoiser(model)
    bias_audio = model.infer(torch.zeros(1, 8, 40), sigma=0.0)
    cleaned = denoiser(bias_audio, strength=1.0)[:, 0]
    assert cleaned.shape == bias_audio.shape
    assert cleaned[:, 1024:-1024].square().mean() < 0.2 * bias_audio[:, 1024:-1024].square().mean()


def test_strength_zero_returns_the_input(model):
    denoiser = Denoiser(model)
    audio = 0.3 * torch.randn(2, 40 * 256)
    torch.testing.assert_close(denoiser(audio, strength=0.0)[:, 0], audio, rtol=1e-4, atol=1e-4)


def test_negative_strength_and_unknown_mode_are_refused(model):
    with pytest.raises(ValueError, match="strength"):
        Denoiser(model)(torch.zeros(1, 4096), strength=-0.1)
    with pytest.raises(ValueError, match="mode"):
        Denoiser(model, mode="silence")


def test_output_is_batch_one_samples_like_the_official_so_the_notebook_idiom_gives_audio(model):
    denoiser = Denoiser(model)
    audio = model.infer(torch.zeros(1, 8, 12), sigma=0.0)  # [1, T]
    out = denoiser(audio, 0.01)
    assert out.shape == (1, 1, 12 * 256)
    assert denoiser(audio, 0.01)[:, 0].shape == (1, 12 * 256)  # Tacotron 2 notebook: denoiser(audio, 0.01)[:, 0]
    torch.testing.assert_close(denoiser(audio.unsqueeze(1), 0.01), out)  # [B, 1, T] input is accepted too


def test_denoiser_built_from_the_inference_form_has_the_same_bias(model):
    torch.testing.assert_close(Denoiser(model.for_inference()).bias_spec, Denoiser(model).bias_spec)
