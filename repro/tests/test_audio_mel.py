"""Tacotron 2 mel front end: filterbank equals librosa, STFT equals the official Fourier-basis
convolution, and the log-mel equals an independent float64 numpy reference within 1e-4."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from ninerepro.audio import SampleRateError, TacotronSTFT, mel_filterbank, tacotron_mel
from ninerepro.audio.signals import speechlike, tone
from ninerepro.audio.stft import STFT

SR, N_FFT, HOP = 22050, 1024, 256


def reference_log_mel(wav: np.ndarray) -> np.ndarray:
    """Float64 numpy reference written from the spec (tts.md §1), independent of torch."""
    x = np.pad(wav.astype(np.float64), N_FFT // 2, mode="reflect")
    n_frames = 1 + (len(x) - N_FFT) // HOP
    frames = np.stack([x[i * HOP: i * HOP + N_FFT] for i in range(n_frames)])  # [frames, n_fft]
    window = scipy.signal.get_window("hann", N_FFT, fftbins=True)
    magnitude = np.abs(np.fft.rfft(frames * window, axis=1)).T  # [513, frames]
    basis = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=80, fmin=0.0, fmax=8000.0, dtype=np.float64)
    return np.log(np.maximum(basis @ magnitude, 1e-5))


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return speechlike(2.0, SR, seed=1)


@pytest.mark.parametrize(("sr", "n_fft", "n_mels", "fmin", "fmax"),
                         [(22050, 1024, 80, 0.0, 8000.0), (16000, 400, 40, 20.0, 7600.0), (16000, 512, 64, 0.0, None)])
def test_the_mel_filterbank_equals_librosa(sr, n_fft, n_mels, fmin, fmax):
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float64)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.astype(np.float32), librosa.filters.mel(
        sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax), rtol=0, atol=1e-6)


def test_the_htk_mel_scale_equals_librosa():
    ours = mel_filterbank(16000, 512, 40, 0.0, 8000.0, htk=True)
    theirs = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, htk=True, dtype=np.float64)
    np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_a_bad_frequency_range_is_rejected():
    with pytest.raises(ValueError, match="fmax"):
        mel_filterbank(16000, 512, 40, fmin=0.0, fmax=9000.0)


def test_torch_stft_equals_the_official_fourier_basis_convolution(audio):
    # The official STFT: rows of the DFT matrix (real parts, then imaginary parts) times the window,
    # applied as a strided conv1d over the reflect-padded signal.
    window = scipy.signal.get_window("hann", N_FFT, fftbins=True)
    dft = np.fft.fft(np.eye(N_FFT))[: N_FFT // 2 + 1]
    basis = torch.from_numpy(np.concatenate([dft.real, dft.imag]) * window).float()[:, None, :]
    x = torch.nn.functional.pad(torch.from_numpy(audio)[None, None], (N_FFT // 2, N_FFT // 2), mode="reflect")
    out = torch.nn.functional.conv1d(x, basis, stride=HOP)[0]
    official = torch.sqrt(out[: N_FFT // 2 + 1] ** 2 + out[N_FFT // 2 + 1:] ** 2)
    ours, _ = STFT().transform(torch.from_numpy(audio))
    assert ours.shape == official.shape
    assert float((ours - official).abs().max()) < 1e-4 * float(official.abs().max())


def test_the_log_mel_matches_the_float64_reference_within_1e_4(audio):
    ours = tacotron_mel(audio)
    reference = reference_log_mel(audio)
    assert ours.dtype == np.float32 and ours.shape == reference.shape == (80, 1 + len(audio) // HOP)
    assert np.max(np.abs(ours - reference)) < 1e-4


@pytest.mark.parametrize("n_samples", [513, 1000, 22050, 22050 + 255])
def test_the_frame_count_is_one_plus_samples_over_hop(n_samples):
    mel = tacotron_mel(speechlike(1.1, SR)[:n_samples])
    assert mel.shape == (80, 1 + n_samples // HOP)


def test_a_batch_gives_the_same_mels_as_one_at_a_time(audio):
    batch = np.stack([audio, audio[::-1].copy(), 0.5 * audio])
    together = tacotron_mel(batch)
    assert together.shape == (3, 80, 1 + len(audio) // HOP)
    for row, wav in zip(together, batch):
        np.testing.assert_allclose(row, tacotron_mel(wav), atol=1e-5)


def test_a_tensor_stays_a_tensor_and_the_module_matches_the_function(audio):
    module = TacotronSTFT()
    tensor = torch.from_numpy(audio)
    out = module(tensor)
    assert isinstance(out, torch.Tensor) and out.shape == (80, 1 + len(audio) // HOP)
    np.testing.assert_allclose(out.numpy(), tacotron_mel(audio), atol=1e-6)
    assert isinstance(tacotron_mel(tensor), torch.Tensor)


def test_silence_is_the_clamp_value_and_a_tone_peaks_in_its_band():
    np.testing.assert_allclose(tacotron_mel(np.zeros(4096, dtype=np.float32)), np.log(1e-5), atol=1e-6)
    mel = tacotron_mel(tone(440.0, 0.5, SR))
    band_centres = librosa.mel_frequencies(82, fmin=0.0, fmax=8000.0)[1:-1]
    assert abs(band_centres[int(np.argmax(mel[:, 10]))] - 440.0) < 60.0


@pytest.mark.parametrize(("bad", "message"), [
    (np.zeros((2, 3, 4000), dtype=np.float32), "shape"),
    (np.zeros(4000, dtype=np.int16), "dtype"),
    (np.full(4000, 2.0, dtype=np.float32), "outside"),
    (np.zeros(100, dtype=np.float32), "too short"),
])
def test_bad_audio_is_rejected_with_a_clear_message(bad, message):
    with pytest.raises(ValueError, match=message):
        tacotron_mel(bad)


def test_a_declared_wrong_sample_rate_is_rejected():
    with pytest.raises(SampleRateError, match="16000"):
        tacotron_mel(np.zeros(4000, dtype=np.float32), sr=16000)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_mel_runs_on_gpu_and_agrees_with_cpu(audio):
    module = TacotronSTFT().to("cuda")
    batch = torch.from_numpy(np.stack([audio, 0.3 * audio]))
    gpu = module(batch.cuda()).cpu()
    np.testing.assert_allclose(gpu.numpy(), tacotron_mel(batch.numpy()), atol=1e-4)


@pytest.mark.parametrize("shape", [(3000,), (2, 3000)])
def test_the_fast_magnitude_path_equals_the_plain_stft(shape):
    wav = torch.from_numpy(np.resize(speechlike(0.2, SR), shape).astype(np.float32))
    stft = STFT()
    fast = stft.magnitude_frames(wav)
    plain, _ = stft.transform(wav)
    assert fast.shape == plain.transpose(-1, -2).shape
    torch.testing.assert_close(fast, plain.transpose(-1, -2), atol=1e-4, rtol=1e-5)
