"""ASR/KWS features: Deep Speech 2 spectrogram, DS1 context stacking, log-mel."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from ninerepro.audio.features import ds2_spectrogram, log_mel, mel_energies, stack_context
from ninerepro.audio.signals import speechlike, tone


@pytest.fixture(scope="module")
def audio16k() -> np.ndarray:
    return speechlike(1.0, 16000, seed=2)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
def test_the_ds2_spectrogram_equals_deepspeech_pytorchs_librosa_recipe(audio16k, pad_mode):
    stft = librosa.stft(audio16k.astype(np.float64), n_fft=320, hop_length=160, win_length=320,
                        window=scipy.signal.windows.hamming(320, sym=True), pad_mode=pad_mode)
    expected = np.log1p(np.abs(stft))
    expected = (expected - expected.mean()) / expected.std(ddof=1)
    ours = ds2_spectrogram(audio16k, pad_mode=pad_mode)
    assert ours.shape == expected.shape == (161, 1 + len(audio16k) // 160)
    # librosa 0.11 reflect-pads the tail as a separate slice, which changes the last frame slightly
    # compared with np.pad / torch.stft reflect padding of the whole signal; compare the rest.
    last = None if pad_mode == "constant" else -1
    assert np.max(np.abs(ours[:, :last] - expected[:, :last])) < 1e-4


def test_the_ds2_spectrogram_is_normalised_per_utterance_in_a_batch(audio16k):
    batch = np.stack([audio16k, 0.1 * audio16k[::-1].copy()])
    out = ds2_spectrogram(batch)
    assert out.shape == (2, 161, 101)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2), ddof=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[0], ds2_spectrogram(audio16k), atol=1e-5)


def test_the_unnormalised_ds2_spectrogram_is_log1p_of_the_magnitude(audio16k):
    out = ds2_spectrogram(torch.from_numpy(audio16k), normalize=False)
    assert isinstance(out, torch.Tensor) and float(out.min()) >= 0.0


def test_stacking_context_puts_neighbouring_frames_in_blocks():
    feats = np.arange(2 * 5, dtype=np.float32).reshape(2, 5)  # D=2, T=5
    stacked = stack_context(feats, context=1)
    assert stacked.shape == (6, 5)
    np.testing.assert_array_equal(stacked[2:4], feats)  # centre block is the frame itself
    np.testing.assert_array_equal(stacked[0:2, 1:], feats[:, :-1])  # block 0 is frame t-1
    np.testing.assert_array_equal(stacked[0:2, 0], [0, 0])  # zero padding before the start
    np.testing.assert_array_equal(stacked[4:6, -1], [0, 0])


def test_edge_padding_repeats_the_first_and_last_frames():
    feats = torch.arange(10.0).reshape(1, 2, 5)
    stacked = stack_context(feats, context=2, pad="edge")
    assert stacked.shape == (1, 10, 5)
    torch.testing.assert_close(stacked[0, 0:2, 0], feats[0, :, 0])
    torch.testing.assert_close(stacked[0, 8:10, -1], feats[0, :, -1])


def test_stacking_rejects_a_bad_padding_mode():
    with pytest.raises(ValueError, match="pad"):
        stack_context(np.zeros((3, 4), np.float32), 1, pad="mirror")


def test_mel_energies_equal_librosa_power_mel(audio16k):
    ours = mel_energies(audio16k, 16000, n_fft=480, hop=160, n_mels=40)
    theirs = librosa.feature.melspectrogram(y=audio16k.astype(np.float64), sr=16000, n_fft=480, hop_length=160,
                                            n_mels=40, power=2.0, pad_mode="reflect")
    assert ours.shape == theirs.shape == (40, 101)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-6)


def test_log_mel_in_db_and_ln_differ_by_the_constant_factor():
    wav = tone(1000.0, 0.5, 16000)
    ln = log_mel(wav, 16000)
    db = log_mel(wav, 16000, log="db")
    np.testing.assert_allclose(db, ln * 10.0 / np.log(10.0), rtol=1e-5, atol=1e-4)


def test_log_mel_rejects_an_unknown_log_and_a_wrong_declared_rate():
    with pytest.raises(ValueError, match="log"):
        log_mel(tone(1000.0, 0.5, 16000), 16000, log="log2")
    with pytest.raises(ValueError, match="16000 Hz"):
        mel_energies(tone(1000.0, 0.5, 8000), 8000, expected_sr=16000)
