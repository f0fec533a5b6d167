"""F0 and voicing at the mel frame rate."""

from __future__ import annotations

import numpy as np
import pytest

from ninerepro.audio import SampleRateError, tacotron_mel
from ninerepro.audio.pitch import f0_at_mel_rate, yin
from ninerepro.audio.signals import tone, vowel

SR = 22050


@pytest.mark.parametrize("freq", [82.0, 110.0, 220.0, 440.0, 700.0, 860.0])
def test_yin_finds_the_frequency_of_a_pure_tone_within_one_percent(freq):
    f0, voiced = yin(tone(freq, 0.6, SR))
    assert voiced[3:-3].all()
    assert np.max(np.abs(f0[3:-3] / freq - 1.0)) < 0.01


def test_yin_finds_the_f0_of_a_vowel_not_a_formant():
    f0, voiced = yin(vowel(150.0, 0.6, SR))
    assert voiced[3:-3].all() and np.max(np.abs(f0[3:-3] / 150.0 - 1.0)) < 0.01


def test_silence_and_noise_are_unvoiced_and_voiced_parts_are_voiced():
    rng = np.random.default_rng(0)
    parts = [tone(200.0, 0.5, SR), np.zeros(SR // 2, np.float32),
             (0.3 * rng.standard_normal(SR // 2)).astype(np.float32), vowel(120.0, 0.5, SR)]
    wav = np.concatenate(parts)
    f0, voiced = yin(wav)
    hop = 256

    def frames(part: int) -> slice:
        start = sum(len(p) for p in parts[:part])
        return slice(start // hop + 3, (start + len(parts[part])) // hop - 3)

    assert voiced[frames(0)].all() and voiced[frames(3)].all()
    assert not voiced[frames(1)].any() and not voiced[frames(2)].any()
    assert (f0[~voiced] == 0).all()
    assert np.max(np.abs(f0[frames(0)] / 200.0 - 1)) < 0.01 and np.max(np.abs(f0[frames(3)] / 120.0 - 1)) < 0.01


@pytest.mark.parametrize("n_samples", [1000, 22050, 22050 + 200])
def test_the_f0_track_has_one_value_per_mel_frame(n_samples):
    wav = tone(300.0, 1.1, SR)[:n_samples]
    f0, voiced = f0_at_mel_rate(wav, SR)
    assert f0.shape == voiced.shape == (tacotron_mel(wav).shape[-1],)
    assert f0.dtype == np.float32


def test_pyin_option_agrees_with_yin_on_a_tone():
    f0, voiced = f0_at_mel_rate(tone(220.0, 0.5, SR), SR, method="pyin")
    assert f0.shape == (1 + int(0.5 * SR) // 256,)
    assert voiced[5:-5].all() and np.max(np.abs(f0[5:-5] / 220.0 - 1)) < 0.02


def test_wrong_sample_rate_and_bad_input_are_rejected():
    with pytest.raises(SampleRateError, match="16000"):
        f0_at_mel_rate(tone(220.0, 0.5, 16000), 16000)
    with pytest.raises(ValueError, match="shape"):
        yin(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="method"):
        f0_at_mel_rate(tone(220.0, 0.5, SR), SR, method="crepe")
