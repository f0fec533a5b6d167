"""Exact match as CGAP's ``tasks/odqa/evaluate.py`` scores it; the normaliser itself lives in ``ninerepro.metrics.qa``.

``exact_match`` is the shared SQuAD EM (lower-case, delete ASCII punctuation, drop a/an/the, collapse
spaces; max over gold aliases). :func:`mean_exact_match` adds what a corpus score needs here: an empty gold
list is an error that names the question, as ``ems(x, [])`` in the official code raises, but with a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ninerepro.metrics.qa import exact_match, normalize_answer

__all__ = ["exact_match", "mean_exact_match", "normalize_answer"]


def mean_exact_match(predictions: Mapping[str, str], gold: Mapping[str, Sequence[str]]) -> float:
    """Mean EM over the ids in ``gold``; a missing prediction scores 0, an empty gold list is refused by id."""
    if not gold:
        raise ValueError("no questions to score")
    hits = 0
    for qid, answers in gold.items():
        if len(answers) == 0:
            raise ValueError(f"question {qid!r} has an empty gold answer list; fix or drop it in the data file")
        hits += exact_match(predictions.get(qid, ""), answers)
    return hits / len(gold)
