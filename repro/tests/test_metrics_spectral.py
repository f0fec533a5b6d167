"""Log-spectral distance on tiny spectrograms with hand-computed values."""

import math

import numpy as np
import pytest

from ninerepro.metrics import lsd

REF = np.array([[1.0, 1.0], [1.0, 100.0]])  # power, [n_bins=2, frames=2]
EST = np.array([[10.0, 1.0], [1.0, 1.0]])
# frame 0: dB differences (-10, 0) -> RMS sqrt(50); frame 1: (0, 20) -> RMS sqrt(200); mean 7.5*sqrt(2)


def test_lsd_of_power_spectra_matches_the_hand_computed_value():
    assert lsd(REF, EST) == pytest.approx(7.5 * math.sqrt(2.0))


def test_magnitude_input_is_squared_first():
    assert lsd(np.sqrt(REF), np.sqrt(EST), power=False) == pytest.approx(7.5 * math.sqrt(2.0))


def test_lsd_is_symmetric_and_zero_for_equal_spectra():
    assert lsd(REF, EST) == pytest.approx(lsd(EST, REF))
    assert lsd(REF, REF) == 0.0


def test_silent_bins_are_clamped_at_the_floor():
    # 1 vs 0 -> 1 vs 1e-10: a 100 dB difference in the only bin
    assert lsd(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(100.0)


def test_shape_mismatch_and_log_inputs_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        lsd(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="not log spectrograms"):
        lsd(np.log(np.full((2, 2), 0.5)), np.ones((2, 2)))
