"""Acronyms to ARPAbet for ``flowtron_cleaners`` (NVIDIA/flowtron text/acronyms.py rules).

An acronym is two or more capital letters ("NASA", "FBI"), or single capitals each followed by a
period ("U.S."), optionally with a plural "s" ("CDs"). Its pronunciation is the dictionary's when the
dictionary has exactly one ("NASA" -> {N AE1 S AH0}); otherwise it is spelled letter by letter, one
``{...}`` span per letter ("FBI" -> {EH1 F} {B IY1} {AY1}), with a plural "s" joined to the last letter
as Z. Like the official rule, there is no word boundary check: every run of capitals is an acronym.
"""

from __future__ import annotations

import re

from ninerepro.text.cmudict import CMUDict

LETTER_ARPABET: dict[str, str] = {
    "A": "EY1", "B": "B IY1", "C": "S IY1", "D": "D IY1", "E": "IY1", "F": "EH1 F", "G": "JH IY1",
    "H": "EY1 CH", "I": "AY1", "J": "JH EY1", "K": "K EY1", "L": "EH1 L", "M": "EH1 M", "N": "EH1 N",
    "O": "OW1", "P": "P IY1", "Q": "K Y UW1", "R": "AA1 R", "S": "EH1 S", "T": "T IY1", "U": "Y UW1",
    "V": "V IY1", "W": "D AH1 B AH0 L Y UW0", "X": "EH1 K S", "Y": "W AY1", "Z": "Z IY1",
}  # fmt: skip
"""How each capital letter is said (Flowtron's table)."""

_ACRONYM_RE = re.compile(r"([A-Z][A-Z]+)s?|([A-Z]\.([A-Z]\.)+s?)")


def _spell_letters(acronym: str) -> str:
    plural = acronym.endswith("s")
    letters = acronym[:-1] if plural else acronym
    spans = [LETTER_ARPABET[letter] for letter in letters]
    if plural:
        spans[-1] += " Z"
    return " ".join("{" + span + "}" for span in spans)


def expand_acronyms(text: str, dictionary: CMUDict) -> str:
    """Replace every acronym in ``text`` by ARPAbet spans (``dictionary`` should be unambiguous-only)."""

    def spell(match: re.Match[str]) -> str:
        acronym = match.group(0).replace(".", "")
        prons = dictionary.lookup(acronym)
        return "{" + prons[0] + "}" if prons else _spell_letters(acronym)

    return _ACRONYM_RE.sub(spell, text)
