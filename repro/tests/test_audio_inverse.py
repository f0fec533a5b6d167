"""Inverse STFT, mel -> linear and Griffin-Lim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ninerepro.audio import STFT, TacotronSTFT, griffin_lim, spectral_convergence
from ninerepro.audio.signals import speechlike


@pytest.fixture(scope="module")
def signal() -> torch.Tensor:
    return torch.from_numpy(speechlike(1.0, 22050, seed=3))


def test_the_exact_inverse_stft_reconstructs_the_signal(signal):
    stft = STFT()
    magnitude, phase = stft.transform(signal)
    back = stft.inverse(magnitude, phase)
    n = back.shape[-1]
    assert n == 256 * (magnitude.shape[-1] - 1)
    assert float((back[1024:-1024] - signal[1024:n - 1024]).abs().max()) < 1e-5


def test_the_inverse_is_batched_and_accepts_a_length(signal):
    stft = STFT()
    batch = torch.stack([signal, -signal])
    magnitude, phase = stft.transform(batch)
    back = stft.inverse(magnitude, phase, length=signal.shape[-1])
    assert back.shape == batch.shape
    torch.testing.assert_close(back[1], -back[0], atol=1e-6, rtol=0)


def test_the_inverse_rejects_mismatched_shapes():
    stft = STFT()
    with pytest.raises(ValueError, match="same shape"):
        stft.inverse(torch.ones(513, 10), torch.ones(513, 11))
    with pytest.raises(ValueError, match="513 frequency bins"):
        stft.inverse(torch.ones(80, 10), torch.ones(80, 10))


def test_griffin_lim_converges_and_improves_with_more_iterations(signal):
    stft = STFT()
    magnitude, _ = stft.transform(signal)
    errors = []
    for n_iters in (0, 5, 30):
        wav = griffin_lim(magnitude, stft, n_iters, generator=torch.Generator().manual_seed(0),
                          length=signal.shape[-1])
        errors.append(spectral_convergence(magnitude, stft.transform(wav)[0]))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.25 and errors[2] < 0.35 * errors[0]  # measured: 0.62 -> 0.28 -> 0.17


def test_griffin_lim_is_reproducible_with_a_seeded_generator_and_batched(signal):
    stft = STFT()
    magnitude, _ = stft.transform(torch.stack([signal, 0.5 * signal]))
    first = griffin_lim(magnitude, stft, 3, generator=torch.Generator().manual_seed(7))
    second = griffin_lim(magnitude, stft, 3, generator=torch.Generator().manual_seed(7))
    assert first.shape[0] == 2
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_griffin_lim_rejects_log_magnitudes():
    with pytest.raises(ValueError, match="non-negative"):
        griffin_lim(-torch.ones(513, 5), STFT())


def test_mel_to_linear_is_nonnegative_and_maps_back_to_the_same_mel(signal):
    taco = TacotronSTFT()
    log_mel = taco(signal)
    linear = taco.mel_to_linear(log_mel)
    assert linear.shape == (513, log_mel.shape[-1]) and float(linear.min()) >= 0.0
    # The pseudo-inverse is the least-squares solution, so the mel of it is close to the original mel.
    remapped = taco.spectral_normalize(taco.linear_to_mel(linear))
    loud = log_mel > np.log(1e-2)
    assert float((remapped - log_mel)[loud].abs().median()) < 0.1


def test_griffin_lim_from_a_mel_gives_audio_with_a_similar_mel(signal):
    taco = TacotronSTFT()
    log_mel = taco(signal)
    wav = griffin_lim(taco.mel_to_linear(log_mel), taco.stft_fn, 30, generator=torch.Generator().manual_seed(0),
                      length=signal.shape[-1])
    again = taco(wav.clamp(-1, 1))
    loud = log_mel > np.log(1e-2)
    assert float((again - log_mel)[loud].abs().mean()) < 0.5


def test_spectral_convergence_is_zero_for_identical_spectra():
    s = torch.rand(513, 4) + 0.1
    assert spectral_convergence(s, s) == 0.0
    assert spectral_convergence(s, 2 * s) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_griffin_lim_runs_on_gpu_with_a_cpu_generator(signal):
    taco = TacotronSTFT().to("cuda")
    log_mel = taco(torch.stack([signal, 0.5 * signal]).cuda())
    wav = griffin_lim(taco.mel_to_linear(log_mel), taco.stft_fn, 5, generator=torch.Generator().manual_seed(0))
    assert wav.is_cuda and wav.shape[0] == 2 and bool(torch.isfinite(wav).all())
