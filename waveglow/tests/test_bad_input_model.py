"""Bad input to the model, the loader and the config is a clear error that names the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from repro.train.checkpoint import CheckpointError
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
