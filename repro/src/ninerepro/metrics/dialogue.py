"""Knowledge-grounded dialogue scores as ParlAI and MSDP (Megatron-LM ``tasks/msdp/metrics.py``) compute them.

Unigram F1 with the ParlAI normaliser, which differs from SQuAD's (:mod:`ninerepro.metrics.qa`) in one place that
changes numbers: each ASCII punctuation character becomes a *space* instead of being deleted, so ``don't``
gives the two words ``don t`` and ``state-of-the-art`` gives ``state of art``. Then a/an/the are dropped and
spaces collapsed. No Unicode normalisation (``é`` stays, a curly quote is not punctuation).

The corpus score is MSDP's: per-line precision, recall and F1, each averaged separately over the lines whose
reference is not the empty string (a reference that *normalises* to nothing, such as ``"."``, still counts and
scores 0). An empty guess scores 0. KF1 is the same F1 with the gold knowledge as the reference.

BLEU and ROUGE-L, the paper's other automatic scores (it used Maluuba/nlg-eval), come from ``sacrebleu``
(corpus BLEU-1..4, 13a tokenisation, averaged as the paper's "B") and ``rouge-score`` (mean ROUGE-L F1).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_PUNCT = re.compile(r"""[!"#$%&()*+,\-./:;<=>?@\[\]\\^`{|}~_']""")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_parlai(text: str) -> str:
    """lower → each ASCII punctuation char to a space → drop a/an/the → single spaces."""
    text = _PUNCT.sub(" ", text.lower())
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _prf(guess_tokens: list[str], answer_tokens: list[str]) -> tuple[float, float, float]:
    same = sum((Counter(answer_tokens) & Counter(guess_tokens)).values())
    if same == 0:
        return 0.0, 0.0, 0.0
    p, r = same / len(guess_tokens), same / len(answer_tokens)
    return p, r, 2 * p * r / (p + r)


def unigram_f1(guess: str, answer: str) -> tuple[float, float, float] | None:
    """(precision, recall, F1) of one line; None when ``answer`` is the empty string (the line is skipped)."""
    if answer == "":
        return None
    if guess == "":
        return 0.0, 0.0, 0.0
    return _prf(normalize_parlai(guess).split(), normalize_parlai(answer).split())


def corpus_unigram_f1(guesses: Sequence[str], answers: Sequence[str]) -> tuple[float, float, float]:
    """Mean per-line precision, recall and F1 over the lines with a non-empty reference (fractions, not %)."""
    if len(guesses) != len(answers):
        raise ValueError(f"{len(guesses)} guesses but {len(answers)} references; they must pair line by line")
    scored = [s for s in (unigram_f1(g, a) for g, a in zip(guesses, answers)) if s is not None]
    if not scored:
        raise ValueError(f"all {len(answers)} references are empty; there is nothing to score")
    n = len(scored)
    return sum(s[0] for s in scored) / n, sum(s[1] for s in scored) / n, sum(s[2] for s in scored) / n


def bleu_1_to_4(guesses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU-1..4 (sacrebleu, one reference per line, 13a tokenisation) and their mean "B", in %."""
    from sacrebleu.metrics import BLEU

    if len(guesses) != len(references):
        raise ValueError(f"{len(guesses)} guesses but {len(references)} references")
    out = {f"BLEU-{n}": BLEU(max_ngram_order=n).corpus_score(list(guesses), [list(references)]).score
           for n in range(1, 5)}
    out["B"] = sum(out.values()) / 4
    return out


def rouge_l(guesses: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F-measure (``rouge-score``, no stemming) over lines, in %."""
    from rouge_score import rouge_scorer

    if len(guesses) != len(references):
        raise ValueError(f"{len(guesses)} guesses but {len(references)} references")
    if not guesses:
        return 0.0
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return 100 * sum(scorer.score(r, g)["rougeL"].fmeasure for g, r in zip(guesses, references)) / len(guesses)
