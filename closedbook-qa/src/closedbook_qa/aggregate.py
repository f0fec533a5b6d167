"""Aggregating the k answers of one question into one: the official vote and the paper's weighted marginalisation.

The paper writes p(a|q) = Σ_i p(a|q, c_i) · p(c_i|q) over k sampled contexts c_i. The released code
approximates both factors crudely: every context counts the same and each answer is one-hot, i.e. a
**majority vote** over SQuAD-normalised answers, ties going to the answer first produced (lowest context
index) because ``Counter.most_common`` keeps insertion order among equal counts. :func:`majority_vote` is that.

The code's probability-weighted writer cannot run (it reads an undefined ``logprob``), so
:func:`weighted_vote` is ours: answer a scores Σ_{i: a_i = a} w_i · p(a_i | q, c_i), where p(a_i|q, c_i) =
exp(sum of the answer's token log-probs) and w_i is a softmax over the k contexts of

- ``"mean"`` (default): the context's mean token log-prob. Summed log-probs of 20- to 100-token samples
  differ by tens of nats, which would make the softmax one-hot on the shortest context; the mean keeps the
  weights comparable across lengths.
- ``"sum"``: the summed log-prob, i.e. p(c_i|q) literally.
- ``"uniform"``: w_i = 1/k. Since the c_i are *drawn from* p(c|q), this is the Monte-Carlo estimate of the
  marginal; weighting by p(c_i|q) again counts likely contexts twice. Offered to show the difference.
Ties again go to the earliest context.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from closedbook_qa.cleaning import clean_answer
from closedbook_qa.metrics import normalize_answer

WEIGHTINGS = ("mean", "sum", "uniform")


def majority_vote(answers: list[str], *, official: bool = False) -> str:
    """The most common normalised answer among raw generations (cleaned first); ties to the earliest."""
    if not answers:
        raise ValueError("majority_vote needs at least one answer")
    normalised = [normalize_answer(clean_answer(a, official=official)) for a in answers]
    return Counter(normalised).most_common(1)[0][0]


@dataclass(frozen=True)
class Candidate:
    """One context's answer with the log-probs the weighting needs."""

    answer: str
    """The raw stage-2 generation (cleaned here, as in the vote)."""
    answer_logprob: float
    """Sum of the log-probs of the answer line's tokens."""
    context_logprob: float
    """Sum of the log-probs of the kept context line's tokens."""
    context_tokens: int


def context_weights(cands: Sequence[Candidate], weighting: str = "mean") -> list[float]:
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {list(WEIGHTINGS)}")
    if weighting == "uniform":
        return [1.0 / len(cands)] * len(cands)
    scores = [c.context_logprob / max(c.context_tokens, 1) if weighting == "mean" else c.context_logprob
              for c in cands]
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    return [e / sum(exp) for e in exp]


def weighted_scores(cands: Sequence[Candidate], weighting: str = "mean", *, official: bool = False) -> dict[str, float]:
    """Score of each normalised answer, in order of first appearance."""
    if not cands:
        raise ValueError("weighted_vote needs at least one candidate")
    scores: dict[str, float] = {}
    for c, w in zip(cands, context_weights(cands, weighting)):
        key = normalize_answer(clean_answer(c.answer, official=official))
        scores[key] = scores.get(key, 0.0) + w * math.exp(c.answer_logprob)
    return scores


def weighted_vote(cands: Sequence[Candidate], weighting: str = "mean", *, official: bool = False) -> str:
    """The normalised answer with the highest weighted score; ties to the earliest context."""
    scores = weighted_scores(cands, weighting, official=official)
    best = max(scores.values())
    return next(a for a, s in scores.items() if s == best)
