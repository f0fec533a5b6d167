"""Ranked-retrieval metrics: recall at k and mean reciprocal rank, over queries with known positives.

These are the numbers retrieval papers report (ReProver's premise retrieval, DPR-style passage retrieval).
Each query contributes its ranked list of retrieved ids and the set of ids that count as correct:

* R@k = |positives ∩ top-k| / |positives|, averaged over queries (a query with 3 positives and 2 of them in
  the top k scores 2/3, as in ReProver's ``retrieval/evaluate.py``, not the "any hit" recall some QA
  papers use);
* MRR = mean of 1 / (1-based rank of the first positive), 0 for a query whose positives were not retrieved.

Queries without positives carry no signal and are skipped rather than scored 0, so results do not depend
on how many unanswerable queries a split happens to contain. Everything is a fraction in [0, 1]; callers
that print percent scale it themselves.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence


def recall_at_k(retrieved: Sequence[Hashable], positives: set[Hashable], k: int) -> float:
    """Fraction of ``positives`` found among the first ``k`` retrieved items."""
    if not positives:
        raise ValueError("recall is undefined for a query without positives; skip such queries")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return len(positives.intersection(retrieved[:k])) / len(positives)


def reciprocal_rank(retrieved: Sequence[Hashable], positives: set[Hashable]) -> float:
    """1 / (1-based rank of the first positive), or 0.0 when none was retrieved."""
    for rank, item in enumerate(retrieved, start=1):
        if item in positives:
            return 1.0 / rank
    return 0.0


def retrieval_metrics(queries: Iterable[tuple[Sequence[Hashable], set[Hashable]]],
                      ks: Sequence[int] = (1, 10)) -> dict[str, float]:
    """``{"R@<k>": ..., "MRR": ..., "n": queries scored}`` over ``(retrieved, positives)`` pairs.

    R@k and MRR are means over the queries that have at least one positive (fractions in [0, 1]); with no
    such query they are NaN, so an empty evaluation can never pass for a perfect or a zero score.
    """
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty list of cut-offs >= 1, got {list(ks)}")
    sums = {k: 0.0 for k in ks}
    rr, n = 0.0, 0
    for retrieved, positives in queries:
        if not positives:
            continue
        n += 1
        for k in ks:
            sums[k] += recall_at_k(retrieved, positives, k)
        rr += reciprocal_rank(retrieved, positives)
    out: dict[str, float] = {f"R@{k}": (s / n if n else float("nan")) for k, s in sums.items()}
    out["MRR"] = rr / n if n else float("nan")
    out["n"] = n
    return out
