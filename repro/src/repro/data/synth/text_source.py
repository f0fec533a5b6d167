"""The English sentences the synthetic corpora speak, and the transcript forms each dataset uses.

The lists ship with the package (built once by :mod:`repro.data.synth.build_sentences` from stdlib
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
    text = resources.files("repro.data.synth").joinpath(f"sentences_{split}.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


def pick_sentences(n: int, split: str, seed: int, salt: int) -> list[str]:
    """``n`` distinct sentences of ``split``, a seeded sample (no sentence twice within a corpus split)."""
    pool = sentences(split)
    if n > len(pool):
        raise ValueError(f"asked for {n} utterances but only {len(pool)} {split!r} sentences exist; lower --n")
    order = np.random.default_rng([seed, salt]).permutation(len(pool))[:n]
    return [pool[int(i)] for i in order]


def expand_numbers(text: str) -> str:
    """Spell digit runs as cardinal words ("2 files" -> "two files"), as LJSpeech's third column does."""
    import inflect

    engine = inflect.engine()

    def spell(match: re.Match[str]) -> str:
        return engine.number_to_words(match.group(0), andword="").replace(",", "")

    return _NUMBER.sub(spell, text)


def librispeech_transcript(text: str) -> str:
    """LibriSpeech style: numbers spelled out, UPPERCASE, only letters, apostrophes and single spaces."""
    spelled = expand_numbers(text).replace("-", " ").upper()
    return " ".join(re.sub(r"[^A-Z' ]", " ", spelled).split())
