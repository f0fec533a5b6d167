"""The Levenshtein core: exact distances against a plain reference DP, and tie-breaking like rapidfuzz."""

import random

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from ninerepro.metrics.edit_distance import EditStats, align, cost_matrix


def _plain_distance(a, b) -> int:
    """Textbook O(n*m) dynamic programme, the reference the vectorised matrix is compared with."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1]


def test_vectorised_cost_matrix_equals_the_plain_dynamic_programme():
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.integers(0, 4, rng.integers(1, 15))
        b = rng.integers(0, 4, rng.integers(1, 15))
        assert cost_matrix(a, b)[-1, -1] == _plain_distance(a.tolist(), b.tolist())


def test_breakdown_equals_rapidfuzz_opcodes_on_random_long_sequences():
    rng = random.Random(7)
    for _ in range(100):
        a = [rng.randrange(5) for _ in range(rng.randrange(0, 150))]
        b = [rng.randrange(5) for _ in range(rng.randrange(0, 150))]
        counts = {"equal": 0, "replace": 0, "delete": 0, "insert": 0}
        for tag, i1, i2, j1, j2 in Levenshtein.opcodes(a, b):
            counts[tag] += (j2 - j1) if tag == "insert" else (i2 - i1)
        assert align(a, b) == EditStats(counts["replace"], counts["delete"], counts["insert"], counts["equal"])


@pytest.mark.parametrize(
    ("ref", "hyp", "expected"),
    [
        ("", "", EditStats()),
        ("abc", "", EditStats(deletions=3)),
        ("", "ab", EditStats(insertions=2)),
        ("kitten", "sitting", EditStats(substitutions=2, insertions=1, hits=4)),
        ("aaaa", "aa", EditStats(deletions=2, hits=2)),
    ],
)
def test_hand_counted_alignments(ref, hyp, expected):
    assert align(list(ref), list(hyp)) == expected


def test_stats_add_up_over_utterances():
    total = EditStats(1, 2, 3, 4) + EditStats(10, 20, 30, 40)
    assert total == EditStats(11, 22, 33, 44)
    assert total.reference_length == 11 + 22 + 44
