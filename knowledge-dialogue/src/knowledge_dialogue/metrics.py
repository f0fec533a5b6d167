"""MSDP's automatic scores: F1 and KF1 as ``tasks/msdp/metrics.py`` and ``evaluate.py``, BLEU and ROUGE-L.

:func:`f1` and :func:`corpus_f1` return fractions (precision, recall, F1); :func:`score_files` reads files as
the official evaluator does (lines stripped, ``<|endoftext|>`` removed from guesses, a reference line
``no_passages_used`` read as empty and so skipped). The implementation lives in :mod:`ninerepro.metrics.dialogue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from knowledge_dialogue.data import NO_KNOWLEDGE
from knowledge_dialogue.prompts import EOT
from ninerepro.metrics.dialogue import bleu_1_to_4, corpus_unigram_f1, normalize_parlai, rouge_l, unigram_f1

__all__ = ["corpus_f1", "f1", "generation_scores", "normalize_parlai", "read_guesses", "read_references",
           "score_files"]


def f1(guess: str, answer: str) -> tuple[float, float, float]:
    """Unigram (precision, recall, F1) of one pair; an empty reference scores (0, 0, 0) here (the corpus skips it)."""
    return unigram_f1(guess, answer) or (0.0, 0.0, 0.0)


def corpus_f1(guesses: Sequence[str], answers: Sequence[str]) -> tuple[float, float, float]:
    """Mean per-line precision, recall, F1 over the lines whose reference is not ``""``."""
    return corpus_unigram_f1(guesses, answers)


def _lines(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path.read_text(encoding="utf-8").splitlines()


def read_guesses(path: str | Path) -> list[str]:
    return [line.strip().replace(EOT, "") for line in _lines(path)]


def read_references(path: str | Path) -> list[str]:
    return ["" if line.strip() == NO_KNOWLEDGE else line.strip() for line in _lines(path)]


def score_files(guess: str | Path, answer: str | Path) -> tuple[float, float, float]:
    g, a = read_guesses(guess), read_references(answer)
    if len(g) != len(a):
        raise ValueError(f"{guess} has {len(g)} lines but {answer} has {len(a)}; the guess file must have one "
                         f"line per reference")
    return corpus_f1(g, a)


def generation_scores(guesses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """F1 (%) plus BLEU (mean of BLEU-1..4, %) and ROUGE-L (%), over the lines with a non-empty reference."""
    pairs = [(g, r) for g, r in zip(guesses, references) if r != "" and r != NO_KNOWLEDGE]
    gs, rs = [p[0] for p in pairs], [p[1] for p in pairs]
    _, _, f = corpus_f1(gs, rs)
    return {"B": bleu_1_to_4(gs, rs)["B"], "R-L": rouge_l(gs, rs), "F1": 100 * f}
