"""The symbol tables of the official Tacotron 2, Flowtron and Mellotron checkpoints.

A text-embedding matrix is indexed by symbol id, so an official checkpoint only works with the exact
table (content *and* order) it was trained with. The tables are rebuilt here from their parts in the
official order (NVIDIA/tacotron2 text/symbols.py; NVIDIA/flowtron and NVIDIA/mellotron text/symbols.py,
which are identical) and checked in the tests against a checksum of the official lists.

ARPAbet phones are stored with an ``@`` prefix, so ``@B`` (the phone) never collides with ``B`` (the
letter).
"""

from __future__ import annotations

# The 39 CMUdict phones; vowels appear bare and with lexical stress 0/1/2 (84 symbols in total).
# Order as in the official cmudict.py valid-symbol list (alphabetical, bare form before stresses).
_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
_CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG",
    "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip


def _arpabet_symbols() -> tuple[str, ...]:
    """All phones with stress variants, sorted the way the official list is (plain string order)."""
    phones = list(_CONSONANTS)
    for vowel in _VOWELS:
        phones += [vowel, vowel + "0", vowel + "1", vowel + "2"]
    return tuple(sorted(phones))


ARPABET: tuple[str, ...] = _arpabet_symbols()
"""Valid ARPAbet symbols (84), in the official order."""

ARPABET_SET: frozenset[str] = frozenset(ARPABET)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Tacotron 2: pad, the hyphen, ten punctuation marks (space last), letters, phones.
_TACOTRON2_CHARS = "_" + "-" + "!'(),.:;? " + _LETTERS

# Flowtron / Mellotron: punctuation, math signs, specials, accented letters, digits, letters, phones.
# Id 0 is "!" here, not a pad symbol: padded positions are excluded by length masks instead.
_FLOWTRON_CHARS = "!'\",.:;? " + "#%&*+-/[]()" + "_@©°½—₩€$" + "áçéêëñöøćž" + "0123456789" + _LETTERS

_TABLES: dict[str, tuple[str, ...]] = {
    "tacotron2": tuple(_TACOTRON2_CHARS) + tuple("@" + p for p in ARPABET),
    "flowtron": tuple(_FLOWTRON_CHARS) + tuple("@" + p for p in ARPABET),
}
# Mellotron's text/symbols.py builds exactly Flowtron's list (same parts, same order; 185 ids).
_TABLES["mellotron"] = _TABLES["flowtron"]

SYMBOL_SET_NAMES: tuple[str, ...] = tuple(_TABLES)


def symbol_table(name: str) -> list[str]:
    """Return a fresh copy of the official symbol list ``name`` (index = embedding row)."""
    try:
        return list(_TABLES[name])
    except KeyError:
        raise ValueError(f"unknown symbol set {name!r}; valid names are {', '.join(SYMBOL_SET_NAMES)}") from None
