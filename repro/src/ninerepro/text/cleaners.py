"""Text cleaners: the normalisation run on every transcript before it is turned into symbol ids.

A checkpoint only understands text cleaned the way its training data was, so each pipeline follows
its official counterpart step by step (NVIDIA/tacotron2 and NVIDIA/flowtron, text/cleaners.py):

- ``english_cleaners`` (Tacotron 2, Mellotron): ASCII transliteration, lower case, numbers,
  abbreviations, whitespace collapse.
- ``basic_cleaners``: lower case, whitespace collapse.
- ``transliteration_cleaners``: ASCII transliteration, lower case, whitespace collapse.
- ``flowtron_cleaners`` (Flowtron): whitespace collapse, word-internal hyphens to spaces, clock times,
  numbers, "no." -> "number", acronyms to ARPAbet. Case and accents are kept (Flowtron's symbol set
  has both), and no other abbreviation is expanded (the dictionary pronounces "Mr." etc. later).
- ``flowtron_english_cleaners``: Flowtron's variant of ``english_cleaners`` (its number rules and
  its 19 abbreviations, which add "ms." -> "miss"); no official Flowtron config selects it.

Divergence, documented: ``english_cleaners`` (and ``flowtron_english_cleaners``) spell "£" amounts
*before* transliterating. The official
order transliterates first, which turns "£5" into "PS5" ("psfive"), so its pounds rule never fired.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from unidecode import unidecode

from ninerepro.text.abbreviations import expand_abbreviations
from ninerepro.text.acronyms import expand_acronyms
from ninerepro.text.cmudict import CMUDict, load_cmudict
from ninerepro.text.numbers import POUNDS_RE, normalize_numbers
from ninerepro.text.numbers_flowtron import normalize_numbers_flowtron
from ninerepro.text.times import normalize_times

_WHITESPACE_RE = re.compile(r"\s+")
_INNER_HYPHEN_RE = re.compile(r"(?<=\w)-(?=\w)")


def collapse_whitespace(text: str) -> str:
    """Every run of whitespace (tabs, newlines) becomes one space; ends are not stripped."""
    return _WHITESPACE_RE.sub(" ", text)


def basic_cleaners(text: str) -> str:
    return collapse_whitespace(text.lower())


def transliteration_cleaners(text: str) -> str:
    return collapse_whitespace(unidecode(text).lower())


def english_cleaners(text: str) -> str:
    text = POUNDS_RE.sub(r"\1 pounds", text)  # before unidecode, which rewrites "£" as "PS"
    text = unidecode(text).lower()
    text = normalize_numbers(text)
    text = expand_abbreviations(text, "tacotron2")
    return collapse_whitespace(text)


def flowtron_english_cleaners(text: str) -> str:
    text = POUNDS_RE.sub(r"\1 pounds", text)  # same fix as english_cleaners
    text = unidecode(text).lower()
    text = normalize_numbers_flowtron(text)
    text = expand_abbreviations(text, "flowtron")
    return collapse_whitespace(text)


def flowtron_cleaners(text: str, dictionary: CMUDict | None = None) -> str:
    """Flowtron's pipeline; ``dictionary`` (default: CMUdict without ambiguous words) spells acronyms."""
    text = collapse_whitespace(text)
    text = _INNER_HYPHEN_RE.sub(" ", text)
    text = normalize_times(text)
    text = normalize_numbers_flowtron(text)
    text = expand_abbreviations(text, "number")
    return expand_acronyms(text, dictionary if dictionary is not None else load_cmudict(False))


CLEANERS: dict[str, Callable[[str], str]] = {
    "english_cleaners": english_cleaners,
    "basic_cleaners": basic_cleaners,
    "transliteration_cleaners": transliteration_cleaners,
    "flowtron_cleaners": flowtron_cleaners,
    "flowtron_english_cleaners": flowtron_english_cleaners,
}


def get_cleaner(name: str) -> Callable[[str], str]:
    try:
        return CLEANERS[name]
    except KeyError:
        raise ValueError(
            f"unknown text cleaner {name!r}; valid cleaners are {', '.join(CLEANERS)} "
            "(check the 'text_cleaners' entry of your config)"
        ) from None


def clean_text(text: str, cleaner_names: Sequence[str] | str, dictionary: CMUDict | None = None) -> str:
    """Run ``text`` through the named cleaners in order (a single name may be given as a string).

    ``dictionary`` reaches the cleaners that pronounce words (``flowtron_cleaners``, for acronyms);
    Flowtron uses the same unambiguous dictionary there as for word substitution.
    """
    names = [cleaner_names] if isinstance(cleaner_names, str) else list(cleaner_names)
    cleaners = [get_cleaner(name) for name in names]  # validate all names before doing any work
    for cleaner in cleaners:
        text = flowtron_cleaners(text, dictionary) if cleaner is flowtron_cleaners else cleaner(text)
    return text
