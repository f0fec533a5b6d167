"""GPE / VDE / FFE on hand-built frames whose counts are worked out in the comments."""

import math

import numpy as np
import pytest
import torch

from ninerepro.metrics import PitchCounts, ffe, gpe, pitch_counts, vde

#            0    1    2    3  4    5    6    7
REF_F0 = [100, 100, 100, 0, 0, 200, 200, 0]
EST_F0 = [110, 130, 0, 0, 150, 150, 250, math.nan]
# frame 0: both voiced, 110/100 - 1 = 0.10 -> fine        frame 4: voiced in est only -> voicing error
# frame 1: both voiced, 130/100 - 1 = 0.30 -> gross error  frame 5: 150/200 - 1 = -0.25 -> gross error
# frame 2: voiced in ref only -> voicing error            frame 6: 250/200 - 1 = 0.25 -> gross error
# frame 3: unvoiced in both                               frame 7: 0 vs NaN, unvoiced in both
# N = 8, N_VV = 4 (frames 0, 1, 5, 6), N_GE = 3, voicing mismatches = 2


def test_counts_of_hand_built_frames():
    assert pitch_counts(REF_F0, EST_F0) == PitchCounts(frames=8, voiced_both=4, gross_errors=3, voicing_errors=2)


def test_rates_of_hand_built_frames():
    assert gpe(REF_F0, EST_F0) == pytest.approx(3 / 4)
    assert vde(REF_F0, EST_F0) == pytest.approx(2 / 8)
    assert ffe(REF_F0, EST_F0) == pytest.approx(5 / 8)


def test_the_twenty_percent_threshold_is_strict():
    ref = [100.0, 100.0, 100.0, 100.0]
    est = [120.0, 80.0, 121.0, 79.0]  # exactly 20 % off is not a gross error; 21 % off is
    assert pitch_counts(ref, est).gross_errors == 2


def test_explicit_voicing_flags_override_the_f0_rule():
    ref, est = [100.0, 100.0, 100.0], [100.0, 300.0, 100.0]
    # frame 1 is flagged unvoiced in the estimate, so its octave error becomes a voicing error instead
    counts = pitch_counts(ref, est, ref_voiced=[True, True, True], est_voiced=[True, False, True])
    assert counts == PitchCounts(frames=3, voiced_both=2, gross_errors=0, voicing_errors=1)
    assert ffe(ref, est, est_voiced=[1, 0, 1]) == pytest.approx(1 / 3)


def test_gpe_without_voiced_voiced_frames_is_nan_while_vde_and_ffe_are_defined():
    ref, est = [0.0, 100.0, 0.0], [100.0, 0.0, 0.0]
    assert math.isnan(gpe(ref, est))
    assert vde(ref, est) == pytest.approx(2 / 3)
    assert ffe(ref, est) == pytest.approx(2 / 3)


def test_counts_add_up_over_utterances_for_corpus_rates():
    total = pitch_counts(REF_F0, EST_F0) + pitch_counts([100.0, 100.0], [100.0, 100.0])
    assert total.gpe == pytest.approx(3 / 6)
    assert total.ffe == pytest.approx(5 / 10)


def test_numpy_and_torch_inputs_give_the_same_answer():
    ref = np.array(REF_F0, dtype=np.float32)
    est = torch.tensor(EST_F0)
    assert ffe(ref, est) == pytest.approx(5 / 8)


def test_length_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="ref_f0 has 3 frames but est_f0 has 2"):
        gpe([100.0, 100.0, 100.0], [100.0, 100.0])


def test_voicing_flags_of_the_wrong_length_are_rejected():
    with pytest.raises(ValueError, match="est_voiced has 2 frames"):
        vde([100.0, 100.0, 100.0], [100.0, 100.0, 100.0], est_voiced=[1, 1])


def test_a_frame_flagged_voiced_without_a_positive_f0_is_rejected():
    with pytest.raises(ValueError, match=r"ref_f0\[1\] = 0.0 but the frame is flagged voiced"):
        gpe([100.0, 0.0], [100.0, 100.0], ref_voiced=[True, True])


def test_empty_tracks_are_rejected():
    with pytest.raises(ValueError, match="empty"):
        ffe([], [])
