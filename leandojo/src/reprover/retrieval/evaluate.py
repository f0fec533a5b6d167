"""Retrieval evaluation over a split: R@1, R@10, MRR (RP ``retrieval/evaluate.py``).

Every tactic of the split is a query (its ``state_before`` at its theorem's position); its positives are
the corpus premises its provenances name. Tactics without positives are skipped, as in RP. ``k`` premises
(100 in the paper) are ranked per query, accessible ones only unless ``accessible_only=False``. The metrics
themselves are :mod:`ninerepro.metrics.retrieval` (fractions); here R@k is scaled to percent, as the paper prints it.
"""

from __future__ import annotations

from ninerepro.metrics import retrieval_metrics
from reprover.data.benchmark import positive_premises
from reprover.data.records import TheoremRecord
from reprover.retrieval.retriever import Query, Retriever

KS = (1, 10)


def split_queries(retriever: Retriever, theorems: list[TheoremRecord],
                  max_queries: int = 0) -> tuple[list[Query], list[set]]:
    """(query, positive set) for every tactic that names at least one corpus premise."""
    queries, positives = [], []
    for thm in theorems:
        for tac in thm.traced_tactics:
            pos = set(positive_premises(retriever.corpus, thm, tac))
            if pos:
                queries.append(Query(tac.state_before, thm.file_path, thm.start))
                positives.append(pos)
            if max_queries and len(queries) >= max_queries:
                return queries, positives
    return queries, positives


def evaluate_retrieval(retriever: Retriever, theorems: list[TheoremRecord], k: int = 100,
                       accessible_only: bool = True, max_queries: int = 0) -> dict[str, float]:
    """``{"R@1", "R@10", "MRR", "n"}`` of ``retriever`` on ``theorems`` (R@k in percent, MRR in [0, 1])."""
    queries, positives = split_queries(retriever, theorems, max_queries)
    ranked = retriever.retrieve(queries, k, accessible_only=accessible_only)
    pairs = [([p for p, _ in r], pos) for r, pos in zip(ranked, positives, strict=True)]
    m = retrieval_metrics(pairs, ks=KS)
    return {key: (100.0 * v if key.startswith("R@") else v) for key, v in m.items()}
