"""Abbreviations spelled out by the cleaners.

Only abbreviations written with their period are expanded ("Dr." but not "Dr"), and matching ignores
case; the replacement is always lower case. Lists: NVIDIA/tacotron2 text/cleaners.py (18 entries, also
Mellotron) and NVIDIA/flowtron text/cleaners.py (the same plus "ms" -> "miss", and "no." -> "number",
which Flowtron applies even in ``flowtron_cleaners``).
"""

from __future__ import annotations

import re

TACOTRON2_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
)

# Flowtron inserts "ms" right after "mrs"; order only matters for readability, as every pattern
# requires the period directly after the abbreviation.
FLOWTRON_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    *TACOTRON2_ABBREVIATIONS[:1],
    ("ms", "miss"),
    *TACOTRON2_ABBREVIATIONS[1:],
)

NUMBER_ABBREVIATION: tuple[tuple[str, str], ...] = (("no", "number"),)


def _compile(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rf"\b{short}\.", re.IGNORECASE), long) for short, long in pairs)


_COMPILED = {
    "tacotron2": _compile(TACOTRON2_ABBREVIATIONS),
    "flowtron": _compile(FLOWTRON_ABBREVIATIONS),
    "number": _compile(NUMBER_ABBREVIATION),
}


def expand_abbreviations(text: str, variant: str = "tacotron2") -> str:
    """Replace each listed ``abbr.`` by its word; ``variant`` is "tacotron2", "flowtron" or "number"."""
    for pattern, word in _COMPILED[variant]:
        text = pattern.sub(word, text)
    return text
