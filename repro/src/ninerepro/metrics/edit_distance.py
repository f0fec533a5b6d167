"""Levenshtein alignment of two token sequences, reporting substitutions, deletions and insertions.

WER and CER are both "edits / reference units"; only the tokenisation differs, so the alignment lives
here, once. The minimum number of edits is unique, but how it splits into S, D and I is not (``a b`` vs
``b c`` is two substitutions or one deletion plus one insertion). We break ties the way ``jiwer``
does (through rapidfuzz, after Hyyrö 2004), so that our breakdowns equal the numbers papers report
with that tool:

1. the common prefix and suffix are matched first;
2. walking back from the end of the cost matrix, a deletion is taken whenever it is optimal, then an
   insertion when the cell to the left sits one below its upper neighbour, otherwise the diagonal.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EditStats:
    """Edit counts of one or more aligned (reference, hypothesis) pairs.

    ``reference_length`` is N, the number of reference units; ``hits + substitutions + deletions == N``.
    Counts add up over utterances (``a + b``), which is how corpus-level error rates are formed.
    """

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0

    @property
    def reference_length(self) -> int:
        return self.hits + self.substitutions + self.deletions

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def error_rate(self) -> float:
        """Errors / N. With N == 0, jiwer returns the raw insertion count; so do we (0.0 if nothing)."""
        if self.reference_length == 0:
            return float(self.insertions)
        return self.errors / self.reference_length

    def __add__(self, other: EditStats) -> EditStats:
        return EditStats(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.hits + other.hits,
        )


def _to_ids(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
    """Map tokens to small integers so the DP compares ints with numpy instead of Python objects."""
    vocab: dict[Hashable, int] = {}
    ref = np.fromiter((vocab.setdefault(t, len(vocab)) for t in reference), dtype=np.int64)
    hyp = np.fromiter((vocab.setdefault(t, len(vocab)) for t in hypothesis), dtype=np.int64)
    return ref, hyp


def _common_affix(ref: np.ndarray, hyp: np.ndarray) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix."""
    shortest = min(len(ref), len(hyp))
    differ = np.flatnonzero(ref[:shortest] != hyp[:shortest])
    prefix = int(differ[0]) if len(differ) else shortest
    rest = shortest - prefix
    ref_tail, hyp_tail = ref[len(ref) - rest :][::-1], hyp[len(hyp) - rest :][::-1]
    differ = np.flatnonzero(ref_tail != hyp_tail)
    suffix = int(differ[0]) if len(differ) else rest
    return prefix, suffix


def cost_matrix(ref: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """Full Levenshtein matrix D [len(ref)+1, len(hyp)+1], D[i, j] = distance(ref[:i], hyp[:j]).

    One numpy pass per reference token: with T[j] = min(deletion, diagonal), the insertion chain
    D[i, j] = min_k<=j T[k] + (j - k) is a running minimum of T - j, shifted back by j.
    """
    n, m = len(ref), len(hyp)
    cols = np.arange(m + 1, dtype=np.int64)
    D = np.empty((n + 1, m + 1), dtype=np.int64)
    D[0] = cols
    best = np.empty(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        prev = D[i - 1]
        best[0] = i
        np.minimum(prev[1:] + 1, prev[:-1] + (hyp != ref[i - 1]), out=best[1:])
        D[i] = np.minimum.accumulate(best - cols) + cols
    return D


def _backtrace(D: np.ndarray, ref: np.ndarray, hyp: np.ndarray) -> EditStats:
    """Walk from D[n, m] to the origin with the tie-breaking described in the module docstring."""
    i, j = len(ref), len(hyp)
    subs = dels = ins = hits = 0
    while i > 0 and j > 0:
        if D[i, j] - D[i - 1, j] == 1:
            dels += 1
            i -= 1
        elif D[i, j - 1] - D[i - 1, j - 1] == -1:
            ins += 1
            j -= 1
        else:
            if ref[i - 1] == hyp[j - 1]:
                hits += 1
            else:
                subs += 1
            i -= 1
            j -= 1
    stats = EditStats(subs, dels + i, ins + j, hits)
    assert stats.errors == D[-1, -1], "backtrace must account for every edit"
    return stats


def align(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> EditStats:
    """S, D, I and hits turning ``reference`` into ``hypothesis`` with the fewest edits."""
    ref, hyp = _to_ids(reference, hypothesis)
    prefix, suffix = _common_affix(ref, hyp)
    matched = prefix + suffix
    ref, hyp = ref[prefix : len(ref) - suffix], hyp[prefix : len(hyp) - suffix]
    if len(ref) == 0 or len(hyp) == 0:
        return EditStats(0, len(ref), len(hyp), matched)
    core = _backtrace(cost_matrix(ref, hyp), ref, hyp)
    return core + EditStats(hits=matched)
