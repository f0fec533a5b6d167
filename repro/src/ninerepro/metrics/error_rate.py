"""Corpus-level word and character error rates (WER, CER), numerically equal to ``jiwer``'s defaults.

Corpus level means total edits over total reference units, not a mean of per-utterance rates: a long
utterance weighs more, as in every ASR paper's tables.

Tokenisation follows jiwer's default transforms exactly, so numbers are comparable with papers that use
it (normalise case and punctuation yourself beforehand, e.g. with ``ninerepro.text`` cleaners):

* words: runs of two or more whitespace characters become one space, the ends are stripped, and the
  text is split on the space character. A *single* tab, newline or no-break space between two words
  therefore does not separate them (``"a\\tb"`` is one word) - a jiwer quirk we keep for parity.
* characters: the ends are stripped; every remaining character counts, spaces included.

Empty references: an utterance with an empty reference contributes its hypothesis units as insertions.
If the whole corpus has no reference units, the result is the raw insertion count (0.0 when the
hypotheses are empty too), which is what jiwer returns; it is not a rate, so avoid such corpora.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from ninerepro.metrics.edit_distance import EditStats, align

Unit = Literal["word", "char"]
_WHITESPACE_RUN = re.compile(r"\s\s+")


def split_words(text: str) -> list[str]:
    """Words as jiwer's default WER transform sees them (see the module docstring)."""
    return [w for w in _WHITESPACE_RUN.sub(" ", text).strip().split(" ") if w]


def split_chars(text: str) -> list[str]:
    """Characters as jiwer's default CER transform sees them: stripped ends, spaces kept."""
    return list(text.strip())


_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"word": split_words, "char": split_chars}


def _as_list(texts: str | Sequence[str], name: str) -> list[str]:
    """Accept one string (one utterance, as jiwer does) or a sequence of strings; reject anything else."""
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a list of strings, got {type(texts).__name__}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{index}] is {type(text).__name__}, expected str; decode or join it first")
    return list(texts)


def edit_stats(references: str | Sequence[str], hypotheses: str | Sequence[str], unit: Unit = "word") -> EditStats:
    """Summed substitutions, deletions, insertions and hits over all utterance pairs.

    ``unit`` is ``"word"`` (for WER) or ``"char"`` (for CER). The two lists pair up by position, so a
    length mismatch means a lost or extra utterance and is an error rather than something to guess at.
    """
    if unit not in _TOKENIZERS:
        raise ValueError(f"unit must be 'word' or 'char', got {unit!r}")
    refs, hyps = _as_list(references, "references"), _as_list(hypotheses, "hypotheses")
    if len(refs) != len(hyps):
        raise ValueError(
            f"got {len(refs)} references but {len(hyps)} hypotheses; they pair up by position, so pass "
            "one hypothesis per reference (an empty string for an utterance with no output)"
        )
    tokenize = _TOKENIZERS[unit]
    total = EditStats()
    for ref, hyp in zip(refs, hyps):
        total = total + align(tokenize(ref), tokenize(hyp))
    return total


def wer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """Word error rate (S + D + I) / N over the whole corpus; see the module docstring for edge cases."""
    return edit_stats(references, hypotheses, unit="word").error_rate


def cer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """Character error rate (S + D + I) / N over the whole corpus, spaces counted as characters."""
    return edit_stats(references, hypotheses, unit="char").error_rate
