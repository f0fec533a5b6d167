"""PCEN: equals librosa's definition, normalises loudness, is trainable with positive parameters."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from ninerepro.audio.features import mel_energies
from ninerepro.audio.pcen import PCEN
from ninerepro.audio.signals import speechlike


@pytest.fixture(scope="module")
def energies() -> torch.Tensor:
    return torch.from_numpy(mel_energies(speechlike(1.5, 16000, seed=4), 16000, n_mels=40)).double()


def test_pcen_equals_librosa_pcen_with_the_same_parameters(energies):
    ours = PCEN(40).double()(energies)
    # librosa starts its smoother as if the past input were 1; ours as if it were E[0]. Give librosa
    # the same initial state so the comparison tests the recursion and the formula.
    zi = scipy.signal.lfilter_zi([0.025], [1, 0.025 - 1]) * energies.numpy()[:, :1]
    theirs = librosa.pcen(energies.numpy(), b=0.025, gain=0.98, bias=2.0, power=0.5, eps=1e-6, axis=-1, zi=zi)
    assert ours.shape == energies.shape == (40, 151)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6, atol=1e-9)


def test_pcen_makes_the_output_nearly_independent_of_input_gain(energies):
    pcen = PCEN(40).double()
    quiet, loud = pcen(energies), pcen(energies * 100.0)  # +20 dB
    # alpha = 0.98: gain g changes E/M^alpha by g^0.02, i.e. 100 -> 1.096
    assert float((loud - quiet).abs().max() / quiet.abs().max()) < 0.1
    log_change = (torch.log(energies * 100 + 1e-6) - torch.log(energies + 1e-6)).abs().max()
    assert float(log_change) > 4.0


def test_pcen_is_batched_and_keeps_items_independent(energies):
    pcen = PCEN(40).double()
    batch = torch.stack([energies, energies.flip(-1)])
    out = pcen(batch)
    torch.testing.assert_close(out[0], pcen(energies))


def test_trainable_pcen_has_per_channel_log_parameters_that_receive_gradients(energies):
    pcen = PCEN(40, trainable=True).double()
    names = {name for name, _ in pcen.named_parameters()}
    assert names == {"log_s", "log_alpha", "log_delta", "log_r"}
    torch.testing.assert_close(pcen.log_alpha.exp(), torch.full((40,), 0.98, dtype=torch.float64))
    pcen(energies[:, :20]).sum().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in pcen.parameters())


def test_fixed_pcen_has_no_parameters_but_saves_its_constants():
    pcen = PCEN(8)
    assert list(pcen.parameters()) == [] and "log_s" in pcen.state_dict()


def test_pcen_rejects_wrong_channel_counts_and_bad_settings():
    with pytest.raises(ValueError, match="40"):
        PCEN(40)(torch.ones(2, 39, 10))
    with pytest.raises(ValueError, match="s must be"):
        PCEN(40, s=1.5)
