"""Augmentation: exact SNR, speed/tempo perturbation, SpecAugment masks, random gain."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ninerepro.audio.augment import add_noise, fit_length, random_gain, speed_perturb
from ninerepro.audio.signals import speechlike, tone
from ninerepro.audio.specaugment import spec_augment
from ninerepro.audio.tempo import tempo_perturb


def _dominant_hz(wav: np.ndarray, sr: int) -> float:
    n = len(wav) // 2 * 2
    mid = wav[n // 4: 3 * n // 4]
    spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
    return float(np.argmax(spectrum) * sr / len(mid))


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 37.5])
@pytest.mark.parametrize("noise_len", [1000, 16000, 50000])
def test_noise_is_added_at_exactly_the_requested_snr(snr_db, noise_len):
    rng = np.random.default_rng(0)
    wav = speechlike(1.0, 16000).astype(np.float64)
    noise = rng.standard_normal(noise_len)
    mixed = add_noise(wav, noise, snr_db, rng)
    scaled_noise = mixed - wav
    measured = 10 * np.log10(np.mean(wav**2) / np.mean(scaled_noise**2))
    assert mixed.shape == wav.shape
    assert abs(measured - snr_db) < 1e-6


def test_noise_is_tiled_and_cropped_at_a_seeded_offset():
    noise = np.arange(5.0)
    np.testing.assert_array_equal(fit_length(noise, 12), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    a = fit_length(noise, 7, np.random.default_rng(3))
    b = fit_length(noise, 7, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_silent_noise_is_rejected():
    with pytest.raises(ValueError, match="non-zero power"):
        add_noise(tone(100.0, 0.1, 16000), np.zeros(100), 10.0)


def test_speed_perturbation_changes_duration_and_pitch_together():
    wav = tone(400.0, 1.0, 16000)
    fast = speed_perturb(wav, 1.25)
    assert abs(len(fast) - 16000 / 1.25) <= 2
    assert abs(_dominant_hz(fast, 16000) - 500.0) < 5.0


@pytest.mark.parametrize("factor", [0.8, 0.9, 1.1, 1.25])
def test_tempo_perturbation_changes_duration_but_keeps_pitch(factor):
    wav = tone(440.0, 1.0, 16000)
    out = tempo_perturb(wav, factor, 16000)
    assert len(out) == round(16000 / factor)
    assert abs(_dominant_hz(out, 16000) - 440.0) < 5.0
    # WSOLA splices whole periods: the steady tone keeps its level.
    assert abs(np.sqrt(np.mean(out[800:-800] ** 2)) / np.sqrt(np.mean(wav**2)) - 1) < 0.05


def test_tempo_factor_one_is_the_identity():
    wav = speechlike(0.5, 16000)
    np.testing.assert_allclose(tempo_perturb(wav, 1.0, 16000), wav, atol=1e-6)


def test_random_gain_is_seeded_and_within_range():
    wav = tone(100.0, 0.1, 16000)
    out, gain_db = random_gain(wav, np.random.default_rng(5))
    again, gain_again = random_gain(wav, np.random.default_rng(5))
    assert -6.0 <= gain_db <= 8.0 and gain_db == gain_again
    np.testing.assert_allclose(out, wav * 10 ** (gain_db / 20), rtol=1e-6)
    np.testing.assert_array_equal(out, again)


def test_spec_augment_masks_bands_per_item_reproducibly():
    feats = torch.ones(4, 80, 200)
    out = spec_augment(feats, freq_width=27, time_width=70, generator=torch.Generator().manual_seed(1))
    again = spec_augment(feats, freq_width=27, time_width=70, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, again)
    assert not torch.equal(out[0], out[1])  # each item has its own masks
    for item in out:
        masked_rows = (item == 0).all(dim=1).sum()
        masked_cols = (item == 0).all(dim=0).sum()
        assert masked_rows <= 27 and masked_cols <= 70
    assert float((out == 0).float().mean()) > 0


def test_spec_augment_with_zero_width_changes_nothing_and_keeps_2d_shape():
    feats = torch.randn(40, 50)
    out = spec_augment(feats, freq_width=0, time_width=0)
    torch.testing.assert_close(out, feats)


def test_spec_augment_rejects_integer_features():
    with pytest.raises(ValueError, match="float"):
        spec_augment(torch.ones(2, 3, 4, dtype=torch.long))
