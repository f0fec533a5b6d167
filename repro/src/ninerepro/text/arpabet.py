"""Replacing words by their CMUdict pronunciation, with probability ``p_arpabet`` per word.

Flowtron trains on a mix of spellings and pronunciations (p_arpabet 0.5, a fresh draw per word and per
sample), so at inference either may be given; Mellotron uses 1.0. A replaced word becomes a ``{...}``
span, which ``text_to_sequence`` encodes as phone ids. Lookup rules (NVIDIA/flowtron text/__init__.py,
``get_arpabet``):

- punctuation around the word is kept outside the span: ``"Hello,"`` -> ``{HH AH0 L OW1},``;
- a possessive or contraction ending in "s" ("John's", but not "it's") is looked up without its last
  two characters and gets a final Z: ``{JH AA1 N Z}``;
- heteronyms (``load_heteronyms``) are never replaced;
- the first pronunciation is used (the default dictionary drops words with several);
- a word that already contains a ``{...}`` span is left alone.

Divergences, documented: when a possessive or heteronym is *not* replaced, the official code returned
the word without its "'s"; here the word is returned unchanged. Words holding ``{...}`` spans are never
looked up (the official code could wrap a span inside another one).
"""

from __future__ import annotations

import re
from collections.abc import Set
from typing import Protocol

from ninerepro.text.cmudict import CMUDict, load_cmudict, load_heteronyms

_LEADING_PUNCT_RE = re.compile(r"\A\W+")
_TRAILING_PUNCT_RE = re.compile(r"\W+\Z")
_CONTRACTION_RE = re.compile(r"(?=\S*')[a-zA-Z'-]+")
# A word is a run of non-space characters, except that a {...} span (which holds spaces) stays whole.
_WORD_RE = re.compile(r"\S*\{.*?\}\S*|\S+")


class UniformSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1): ``random.Random`` or ``numpy.random.Generator``."""

    def random(self) -> float: ...


def _split_punctuation(word: str) -> tuple[str, str, str]:
    lead = _LEADING_PUNCT_RE.match(word)
    start = lead.group(0) if lead else ""
    core = word[len(start) :]
    trail = _TRAILING_PUNCT_RE.search(core)
    end = trail.group(0) if trail else ""
    return start, core[: len(core) - len(end)], end


def word_to_arpabet(word: str, dictionary: CMUDict, heteronyms: Set[str] = frozenset()) -> str:
    """``word`` with its letters replaced by a ``{...}`` pronunciation span, or ``word`` unchanged."""
    if "{" in word:
        return word
    start, core, end = _split_punctuation(word)
    suffix = ""
    lowered = core.lower()
    if _CONTRACTION_RE.match(core) and lowered != "it's" and lowered.endswith("s"):
        core, suffix = core[:-2], " Z"
    if not core or core.lower() in heteronyms:
        return word
    prons = dictionary.lookup(core)
    if prons is None:
        return word
    return start + "{" + prons[0] + suffix + "}" + end


def substitute_arpabet(
    text: str,
    p_arpabet: float,
    rng: UniformSource | None = None,
    dictionary: CMUDict | None = None,
    heteronyms: Set[str] | None = None,
) -> str:
    """Replace each word of ``text`` by its pronunciation with probability ``p_arpabet``.

    Words are re-joined with single spaces. ``rng`` is required for 0 < p_arpabet < 1 (pass a seeded
    generator so data loading is reproducible); p_arpabet 0 and 1 are deterministic. Defaults are
    Flowtron's: CMUdict without ambiguous words, and its heteronym list.
    """
    if not 0.0 <= p_arpabet <= 1.0:
        raise ValueError(f"p_arpabet must be in [0, 1], got {p_arpabet}")
    if 0.0 < p_arpabet < 1.0 and rng is None:
        raise ValueError(
            f"p_arpabet={p_arpabet} draws at random per word: pass rng=random.Random(seed) "
            "(or a numpy Generator) so the choice is reproducible"
        )
    words = _WORD_RE.findall(text)
    if p_arpabet == 0.0:
        return " ".join(words)
    dictionary = dictionary if dictionary is not None else load_cmudict(keep_ambiguous=False)
    heteronyms = heteronyms if heteronyms is not None else load_heteronyms()
    out = []
    for word in words:
        chosen = p_arpabet == 1.0 or rng.random() < p_arpabet  # type: ignore[union-attr]
        out.append(word_to_arpabet(word, dictionary, heteronyms) if chosen else word)
    return " ".join(out)
