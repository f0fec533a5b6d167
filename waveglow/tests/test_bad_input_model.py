"""Bad input to the model, the loader and the config is a clear error that names the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ninerepro.train.checkpoint import CheckpointError
from waveglow.checkpoint import load_checkpoint
from waveglow.config import WaveGlowConfig, WaveGlowDataConfig, WaveGlowModelConfig, WNConfig
from waveglow.convert import convert_main
from waveglow.model import WaveGlow

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def model() -> WaveGlow:
    torch.manual_seed(0)
    return WaveGlow(WaveGlowModelConfig(n_mel_channels=6, n_flows=2, wn=WNConfig(n_layers=2, n_channels=8),
                                        upsample_kernel=64, upsample_stride=16))


def test_mel_with_the_wrong_number_of_channels_names_the_expected_count(model):
    with pytest.raises(ValueError, match=r"\[batch, 6, frames\].*n_mel_channels=6"):
        model.infer(torch.zeros(1, 80, 10), sigma=0.6)
    with pytest.raises(ValueError, match="add a batch axis"):
        model.infer(torch.zeros(6, 10), sigma=0.6)
    with pytest.raises(ValueError, match=r"\[batch, 6, frames\]"):
        model(torch.zeros(1, 5, 10), torch.zeros(1, 160))


@pytest.mark.parametrize("sigma", [-0.1, float("nan")])
def test_negative_or_nan_sigma_is_refused(model, sigma):
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        model.infer(torch.zeros(1, 6, 4), sigma=sigma)


def test_mel_shorter_than_the_upsampler_trim_is_refused(model):
    with pytest.raises(ValueError, match=r"0 frames.*trims 48 samples"):
        model.infer(torch.zeros(1, 6, 0), sigma=0.0)


def test_audio_not_covered_by_its_mel_or_not_whole_groups_is_refused(model):
    with pytest.raises(ValueError, match="covers at most 112 samples"):
        model(torch.zeros(1, 6, 4), torch.zeros(1, 160))
    with pytest.raises(ValueError, match="multiple of n_group=8"):
        model(torch.zeros(1, 6, 4), torch.zeros(1, 60))
    with pytest.raises(ValueError, match="batch"):
        model(torch.zeros(2, 6, 4), torch.zeros(1, 64))


def test_z_of_the_wrong_shape_is_refused(model):
    with pytest.raises(ValueError, match="z must have shape"):
        model.reverse(torch.zeros(1, 6, 4), torch.zeros(1, 8, 7))


def test_checkpoint_that_does_not_fit_the_given_config_lists_the_mismatched_keys(tmp_path):
    ours = tmp_path / "ours.pt"
    assert convert_main([str(FIXTURES / "official_tiny.pt"), str(ours)]) == 0
    wrong = WaveGlowModelConfig(n_mel_channels=4, n_flows=4, n_early_every=2, wn=WNConfig(n_layers=2, n_channels=32))
    for path in (ours, FIXTURES / "official_tiny.pt"):
        expected = r"(?s)does not fit.*shape mismatch.*WN\.0\.start.*fix: use the config"
        with pytest.raises(CheckpointError, match=expected):
            load_checkpoint(path, config=wrong)


def test_inconsistent_configs_fail_at_load_time_naming_the_field():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        WNConfig(kernel_size=4)
    with pytest.raises(ValueError, match="n_group must be a positive even"):
        WaveGlowModelConfig(n_group=7)
    with pytest.raises(ValueError, match="fewer than 2 channels"):
        WaveGlowModelConfig(n_flows=12, n_early_every=1)
    with pytest.raises(ValueError, match=r"must equal data\.filter_length/hop_length"):
        WaveGlowConfig(data=WaveGlowDataConfig(hop_length=200))


def log_mel(frames: int = 8, n_mel: int = 6) -> torch.Tensor:
    """A plausible natural-log mel: between the log(1e-5) floor and about +2."""
    return torch.linspace(-11.0, 2.0, n_mel * frames).reshape(1, n_mel, frames)


@pytest.mark.parametrize(("bad", "message"), [
    (float("nan"), "NaN/inf"), (float("inf"), "NaN/inf"), (float("-inf"), "NaN/inf"),
])
def test_non_finite_mels_are_refused_at_the_api(model, bad, message):
    mel = log_mel()
    mel[0, 2, 3] = bad
    with pytest.raises(ValueError, match=message):
        model.infer(mel, sigma=0.6)
    with pytest.raises(ValueError, match=message):
        model.for_inference().infer(mel, sigma=0.6)


def test_db_scale_and_linear_mels_are_refused_with_the_likely_cause(model):
    linear = log_mel().exp()  # magnitudes: never negative
    db = 20 * torch.log10(linear)  # reaches about -95 dB
    with pytest.raises(ValueError, match="dB-scale"):
        model.infer(db, sigma=0.6)
    with pytest.raises(ValueError, match="dB-scale"):
        model.infer(db - db.min(), sigma=0.6)  # 0..+110 dB: too high for a log-mel
    with pytest.raises(ValueError, match="linear-magnitude"):
        model.infer(linear, sigma=0.6)
    assert torch.isfinite(model.infer(linear, sigma=0.6, check_scale=False)).all()  # the escape hatch
    assert torch.isfinite(model.infer(torch.zeros(1, 6, 8), sigma=0.0)).all()  # the denoiser's all-zero mel


def test_float64_and_float16_mels_are_cast_to_the_models_dtype_and_fp16_weights_on_cpu_refused(model):
    mel = log_mel()
    expected = model.infer(mel, sigma=0.0)
    torch.testing.assert_close(model.infer(mel.double(), sigma=0.0), expected)
    torch.testing.assert_close(model.infer(mel.half(), sigma=0.0), model.infer(mel.half().float(), sigma=0.0))
    with pytest.raises(TypeError, match="floating-point"):
        model.infer(mel.long(), sigma=0.0)
    with pytest.raises(ValueError, match="fp16 synthesis needs a CUDA device"):
        model.for_inference().half().infer(mel, sigma=0.0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where no GPU is visible")
def test_cuda_without_a_gpu_is_a_clear_error_at_load_time():
    with pytest.raises(ValueError, match="no GPU is visible; use device='cpu'"):
        load_checkpoint(FIXTURES / "official_tiny.pt", device="cuda")
