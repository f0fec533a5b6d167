"""The English sentences the synthetic corpora speak, and the transcript forms each dataset uses.

The lists ship with the package (built once by :mod:`ninerepro.data.synth.build_sentences` from stdlib
docstrings), so every machine reads the same sentences. About 10 % are held out by a stable hash:
corpora draw training utterances from ``"train"`` and dev/test utterances from ``"heldout"``, so a model
is never evaluated on a sentence it was trained on.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import numpy as np

SPLITS = ("train", "heldout")
_NUMBER = re.compile(r"\d+")


@functools.cache
def sentences(split: str = "train") -> tuple[str, ...]:
    """The cleaned, deduplicated sentences of ``split`` ("train" or "heldout"), in a fixed order."""
    if split not in SPLITS:
        raise ValueError(f"unknown sentence split {split!r}; use one of {SPLITS}")
    text = resources.files("ninerepro.data.synth").joinpath(f"sentences_{split}.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


def pick_sentences(n: int, split: str, seed: int, salt: int) -> list[str]:
    """``n`` distinct sentences of ``split``, a seeded sample (no sentence twice within a corpus split)."""
    pool = sentences(split)
    if n > len(pool):
        raise ValueError(f"asked for {n} utterances but only {len(pool)} {split!r} sentences exist; lower --n")
    order = np.random.default_rng([seed, salt]).permutation(len(pool))[:n]
    return [pool[int(i)] for i in order]


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def spell_cardinal(number: int) -> str:
    """English words for 0 <= number < 10**12, without "and" ("one hundred five"), hyphenated tens.

    Written out here rather than taken from inflect because building an inflect engine costs seconds
    (runtime type-check instrumentation) and the corpora need only plain cardinals.
    """
    if not 0 <= number < 10**12:
        raise ValueError(f"spell_cardinal supports 0 <= n < 10**12, got {number}")
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for scale, name in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            return f"{spell_cardinal(head)} {name}" + (f" {spell_cardinal(rest)}" if rest else "")
    raise AssertionError("unreachable")


def expand_numbers(text: str) -> str:
    """Spell digit runs as cardinal words ("2 files" -> "two files"), as LJSpeech's third column does."""
    return _NUMBER.sub(lambda match: spell_cardinal(int(match.group(0))), text)


def librispeech_transcript(text: str) -> str:
    """LibriSpeech style: numbers spelled out, UPPERCASE, only letters, apostrophes and single spaces."""
    spelled = expand_numbers(text).replace("-", " ").upper()
    return " ".join(re.sub(r"[^A-Z' ]", " ", spelled).split())
