"""Pitch accuracy of synthesised speech: GPE, VDE and FFE (Chu & Alwan 2009, as in tts.md §7).

With per-frame F0 of a reference r and an estimate e on the same frame grid, and voicing flags:

* N    = number of frames; N_VV = frames voiced in both;
* N_GE = frames among N_VV with |e / r - 1| > 0.2 (gross pitch errors);
* GPE  = N_GE / N_VV;   VDE = (frames voiced in exactly one) / N;   FFE = (N_GE + those frames) / N.

Voicing defaults to "F0 is finite and > 0", which covers both YIN-style 0 and pYIN-style NaN for
unvoiced frames. GPE is undefined when no frame is voiced in both; it is then NaN (not 0, which would
claim perfect pitch). For a corpus, add the ``PitchCounts`` of every utterance and take the rates of
the sum, so each frame weighs the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ninerepro.metrics._arrays import as_float_array

GROSS_ERROR_THRESHOLD = 0.2


@dataclass(frozen=True)
class PitchCounts:
    """Frame counts behind GPE / VDE / FFE; they add up over utterances."""

    frames: int = 0  # N
    voiced_both: int = 0  # N_VV
    gross_errors: int = 0  # N_GE
    voicing_errors: int = 0  # frames voiced in one signal only

    def __add__(self, other: PitchCounts) -> PitchCounts:
        return PitchCounts(
            self.frames + other.frames,
            self.voiced_both + other.voiced_both,
            self.gross_errors + other.gross_errors,
            self.voicing_errors + other.voicing_errors,
        )

    @property
    def gpe(self) -> float:
        return self.gross_errors / self.voiced_both if self.voiced_both else float("nan")

    @property
    def vde(self) -> float:
        return self.voicing_errors / self.frames if self.frames else float("nan")

    @property
    def ffe(self) -> float:
        return (self.gross_errors + self.voicing_errors) / self.frames if self.frames else float("nan")


def _voicing(f0: np.ndarray, flags: Any, name: str) -> np.ndarray:
    """Boolean voicing per frame: the given flags, or finite positive F0 when none are given."""
    if flags is None:
        with np.errstate(invalid="ignore"):
            return np.isfinite(f0) & (f0 > 0)
    voiced = as_float_array(flags, f"{name}_voiced", ndim=1) != 0
    if voiced.shape != f0.shape:
        raise ValueError(f"{name}_voiced has {voiced.shape[0]} frames but {name}_f0 has {f0.shape[0]}")
    bad = voiced & ~(np.isfinite(f0) & (f0 > 0))
    if np.any(bad):
        frame = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}_f0[{frame}] = {f0[frame]} but the frame is flagged voiced; voiced frames need a positive F0"
        )
    return voiced


def pitch_counts(
    ref_f0: Any,
    est_f0: Any,
    ref_voiced: Any = None,
    est_voiced: Any = None,
    threshold: float = GROSS_ERROR_THRESHOLD,
) -> PitchCounts:
    """Count N, N_VV, N_GE and voicing mismatches for one time-aligned pair of F0 tracks [frames]."""
    ref = as_float_array(ref_f0, "ref_f0", ndim=1)
    est = as_float_array(est_f0, "est_f0", ndim=1)
    if ref.shape != est.shape:
        raise ValueError(
            f"ref_f0 has {ref.shape[0]} frames but est_f0 has {est.shape[0]}; pitch metrics compare frame by "
            "frame, so extract both with the same hop (and trim or align the estimate to the reference)"
        )
    if ref.size == 0:
        raise ValueError("ref_f0 and est_f0 are empty; pitch metrics need at least one frame")
    r_v, e_v = _voicing(ref, ref_voiced, "ref"), _voicing(est, est_voiced, "est")
    both = r_v & e_v
    gross = np.abs(est[both] / ref[both] - 1.0) > threshold
    return PitchCounts(
        frames=int(ref.size),
        voiced_both=int(both.sum()),
        gross_errors=int(gross.sum()),
        voicing_errors=int((r_v != e_v).sum()),
    )


def gpe(ref_f0: Any, est_f0: Any, ref_voiced: Any = None, est_voiced: Any = None) -> float:
    """Gross pitch error N_GE / N_VV; NaN when no frame is voiced in both tracks."""
    return pitch_counts(ref_f0, est_f0, ref_voiced, est_voiced).gpe


def vde(ref_f0: Any, est_f0: Any, ref_voiced: Any = None, est_voiced: Any = None) -> float:
    """Voicing decision error: fraction of frames voiced in exactly one of the two tracks."""
    return pitch_counts(ref_f0, est_f0, ref_voiced, est_voiced).vde


def ffe(ref_f0: Any, est_f0: Any, ref_voiced: Any = None, est_voiced: Any = None) -> float:
    """F0 frame error: fraction of frames with a gross pitch error or a voicing mismatch."""
    return pitch_counts(ref_f0, est_f0, ref_voiced, est_voiced).ffe
