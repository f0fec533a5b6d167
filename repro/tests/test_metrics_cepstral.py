"""MCD and mel-cepstra on tiny arrays with values worked out by hand."""

import math

import numpy as np
import pytest
import torch

from ninerepro.metrics import mcd, mcd_dtw, mel_cepstrum_from_mel
from ninerepro.metrics.dtw import _accumulate, dtw_path

K = 10.0 / math.log(10.0)

# [n_mcep=3, frames=2]; row 0 is c0
REF = np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])
EST = np.array([[5.0, 5.0], [0.0, 0.0], [0.0, 2.0]])
# without c0: frame 0 differs by (1, 0) -> K*sqrt(2*1); frame 1 by (2, -2) -> K*sqrt(2*8) = 4K
# with c0:    frame 0 differs by (-5, 1, 0) -> K*sqrt(2*26); frame 1 by (-5, 2, -2) -> K*sqrt(2*33)


def test_mcd_without_c0_matches_the_hand_computed_value():
    assert mcd(REF, EST) == pytest.approx(K * (math.sqrt(2.0) + 4.0) / 2)


def test_mcd_with_c0_matches_the_hand_computed_value():
    assert mcd(REF, EST, exclude_c0=False) == pytest.approx(K * (math.sqrt(52.0) + math.sqrt(66.0)) / 2)


def test_mcd_of_identical_cepstra_is_zero_and_accepts_torch():
    assert mcd(torch.tensor(REF), torch.tensor(REF)) == 0.0


def test_mel_cepstrum_is_the_orthonormal_dct_of_the_log_mel():
    log_mel = np.array([[1.0, 4.0], [3.0, 4.0]])  # [n_mels=2, frames=2]
    # for two bins: c0 = (a + b) / sqrt(2), c1 = (a - b) / sqrt(2)
    expected = np.array([[4.0, 8.0], [-2.0, 0.0]]) / math.sqrt(2.0)
    np.testing.assert_allclose(mel_cepstrum_from_mel(log_mel, n_mcep=2), expected, atol=1e-12)


def test_mel_cepstrum_of_a_flat_log_mel_has_only_c0():
    c = mel_cepstrum_from_mel(np.full((80, 5), -2.0), n_mcep=13)
    assert c.shape == (13, 5)
    np.testing.assert_allclose(c[0], -2.0 * math.sqrt(80.0))
    np.testing.assert_allclose(c[1:], 0.0, atol=1e-12)


def test_mel_cepstrum_rejects_bad_n_mcep_and_non_finite_input():
    with pytest.raises(ValueError, match="n_mcep must be between 1 and n_mels=4"):
        mel_cepstrum_from_mel(np.zeros((4, 3)), n_mcep=5)
    with pytest.raises(ValueError, match="clamp the mel before the log"):
        mel_cepstrum_from_mel(np.full((4, 3), -np.inf), n_mcep=2)


def test_mcd_rejects_different_frame_counts_and_points_to_mcd_dtw():
    with pytest.raises(ValueError, match="use mcd_dtw"):
        mcd(np.zeros((3, 4)), np.zeros((3, 5)))


def test_mcd_rejects_different_coefficient_counts():
    with pytest.raises(ValueError, match="same number of coefficients"):
        mcd(np.zeros((3, 4)), np.zeros((2, 4)))


def test_mcd_dtw_ignores_a_repeated_frame():
    ref = np.array([[9.0, 9.0, 9.0], [0.0, 1.0, 3.0]])
    slow = ref[:, [0, 1, 1, 2]]  # frame 1 held twice
    assert mcd_dtw(ref, slow) == pytest.approx(0.0)


def test_mcd_dtw_hand_computed_on_a_one_dimensional_example():
    ref = np.array([[0.0, 0.0], [0.0, 2.0]])  # c1 = (0, 2)
    est = np.array([[0.0], [1.0]])  # c1 = (1): both reference frames map to it, each 1 away
    assert mcd_dtw(ref, est) == pytest.approx(K * math.sqrt(2.0))


def _plain_accumulate(cost: np.ndarray) -> np.ndarray:
    n, m = cost.shape
    acc = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            prev = [acc[i - 1, j]] if i else []
            prev += [acc[i, j - 1]] if j else []
            prev += [acc[i - 1, j - 1]] if i and j else []
            acc[i, j] = cost[i, j] + (min(prev) if prev else 0.0)
    return acc


def test_vectorised_dtw_accumulation_equals_the_plain_double_loop():
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (1, 6), (5, 1), (7, 4), (12, 15)]:
        cost = rng.random(shape)
        np.testing.assert_allclose(_accumulate(cost), _plain_accumulate(cost), rtol=1e-12)


def test_dtw_path_starts_and_ends_at_the_corners_and_moves_monotonically():
    rng = np.random.default_rng(4)
    path = dtw_path(rng.random((9, 3)), rng.random((6, 3)))
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (8, 5)
    steps = np.diff(path, axis=0)
    assert np.all((steps >= 0) & (steps <= 1)) and np.all(steps.sum(axis=1) >= 1)
