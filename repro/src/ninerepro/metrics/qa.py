"""Extractive/open-domain QA scores with SQuAD answer normalisation: exact match and token F1.

The normaliser is the one of the SQuAD v1.1 evaluation script, which CGAP's ``tasks/odqa/evaluate.py`` and
most open-domain QA papers use: lower-case, delete every ASCII punctuation character (``string.punctuation``),
replace the whole words a/an/the with a space, collapse whitespace. No Unicode normalisation: ``é`` and
``e`` differ, as do a curly and a straight quote (only the straight one is ASCII punctuation). Reproduced
numbers are only comparable if these quirks are kept.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower → drop punctuation → drop articles → single spaces, stripped."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _check_gold(answers: Sequence[str]) -> None:
    if isinstance(answers, str):
        raise TypeError(f"answers must be a list of strings, got the string {answers!r}; wrap it in a list")
    if len(answers) == 0:
        raise ValueError("the gold answer list is empty; every question needs at least one answer")


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """True when the normalised prediction equals some normalised gold answer (max over aliases)."""
    _check_gold(answers)
    pred = normalize_answer(prediction)
    return any(pred == normalize_answer(a) for a in answers)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """Best SQuAD token F1 over the gold aliases (bag of normalised words)."""
    _check_gold(answers)
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in answers:
        ref = normalize_answer(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common == 0:
            continue
        p, r = common / len(pred), common / len(ref)
        best = max(best, 2 * p * r / (p + r))
    return best
