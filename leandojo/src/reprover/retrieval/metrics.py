"""Retrieval metrics exactly as ReProver reports them (RP ``retrieval/evaluate.py``; spec §4).

Per tactic with at least one positive premise, given the ranked retrieved list (100 long in the paper):

* R@k = |positives ∩ top-k| / |positives|, averaged over tactics and reported in percent;
* MRR = mean of 1 / rank of the first positive, 0 when no positive was retrieved (reported as a fraction).

Tactics without positives are skipped, not counted as zero. (These belong in ``repro.metrics`` beside the
other metrics; they live here until they are moved.)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence


def recall_at_k(retrieved: Sequence[Hashable], positives: set[Hashable], k: int) -> float:
    """Fraction of ``positives`` found in the first ``k`` retrieved items."""
    if not positives:
        raise ValueError("recall is undefined without positives; skip such queries")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return len(positives.intersection(retrieved[:k])) / len(positives)


def reciprocal_rank(retrieved: Sequence[Hashable], positives: set[Hashable]) -> float:
    """1 / (1-based rank of the first positive), or 0.0 if none was retrieved."""
    for rank, item in enumerate(retrieved, start=1):
        if item in positives:
            return 1.0 / rank
    return 0.0


def retrieval_metrics(
    queries: Iterable[tuple[Sequence[Hashable], set[Hashable]]], ks: tuple[int, ...] = (1, 10)
) -> dict[str, float]:
    """``{"R@1": %, "R@10": %, "MRR": fraction, "n": queries used}`` over (retrieved, positives) pairs.

    Queries with no positive are skipped (RP does the same); with none left every metric is NaN.
    """
    sums = {f"R@{k}": 0.0 for k in ks}
    rr, n = 0.0, 0
    for retrieved, positives in queries:
        if not positives:
            continue
        n += 1
        for k in ks:
            sums[f"R@{k}"] += recall_at_k(retrieved, positives, k)
        rr += reciprocal_rank(retrieved, positives)
    out = {key: (100.0 * v / n if n else float("nan")) for key, v in sums.items()}
    out["MRR"] = rr / n if n else float("nan")
    out["n"] = n
    return out
