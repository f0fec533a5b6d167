"""Text <-> symbol ids for the Tacotron 2 / Flowtron / Mellotron embeddings.

``text_to_sequence`` runs: split off ``{...}`` ARPAbet spans (they bypass cleaning) -> clean the rest
-> optionally replace words by CMUdict pronunciations (``p_arpabet``) -> map characters and ``@``-phones
to ids in the chosen official table.

Characters outside the table cannot be embedded and are dropped, as in the official code; unlike it,
each distinct dropped character raises one ``UnknownSymbolWarning`` (``strict=True`` raises instead),
because a silently shortened transcript is a data bug that is hard to find later. ``_`` and ``~`` are
dropped without a warning: the official code reserves them (``_`` is Tacotron 2's pad symbol).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Sequence, Set

from ninerepro.text.arpabet import UniformSource, substitute_arpabet
from ninerepro.text.cleaners import clean_text
from ninerepro.text.cmudict import CMUDict
from ninerepro.text.symbols import symbol_table

# (text before)(span contents)(rest); DOTALL so a newline before a span does not hide it.
_SPAN_RE = re.compile(r"(.*?)\{(.+?)\}(.*)", re.DOTALL)
_SILENTLY_DROPPED = frozenset("_~")


class UnknownSymbolWarning(UserWarning):
    """A character or ARPAbet phone is not in the symbol table and was left out of the sequence."""


def split_spans(text: str) -> list[tuple[str, bool]]:
    """``"a {B} c"`` -> [("a ", False), ("B", True), (" c", False)]; empty plain parts are omitted."""
    parts: list[tuple[str, bool]] = []
    while text:
        match = _SPAN_RE.match(text)
        if match is None:
            parts.append((text, False))
            break
        if match.group(1):
            parts.append((match.group(1), False))
        parts.append((match.group(2), True))
        text = match.group(3)
    return parts


@functools.lru_cache(maxsize=8)
def _symbol_ids(symbol_set: str) -> dict[str, int]:
    return {symbol: i for i, symbol in enumerate(symbol_table(symbol_set))}


class _Encoder:
    def __init__(self, symbol_set: str, strict: bool) -> None:
        self.ids = _symbol_ids(symbol_set)
        self.symbol_set, self.strict = symbol_set, strict

    def encode(self, symbols: Iterable[str]) -> list[int]:
        out = []
        for symbol in symbols:
            if symbol in _SILENTLY_DROPPED:
                continue
            index = self.ids.get(symbol)
            if index is None:
                self._unknown(symbol)
            else:
                out.append(index)
        return out

    def _unknown(self, symbol: str) -> None:
        shown = f"ARPAbet phone {symbol[1:]!r}" if symbol.startswith("@") else f"character {symbol!r}"
        message = (
            f"{shown} is not in the {self.symbol_set!r} symbol table and was dropped; "
            "check the cleaners (english_cleaners spells out digits) or fix the {...} span"
        )
        if self.strict:
            raise ValueError(message)
        warnings.warn(message, UnknownSymbolWarning, stacklevel=4)


def encode_symbols(symbols: Iterable[str], symbol_set: str, strict: bool = False) -> list[int]:
    """Ids of already-clean characters and ``@``-phones (unknown ones dropped with a warning)."""
    return _Encoder(symbol_set, strict).encode(symbols)


def text_to_sequence(
    text: str,
    cleaner_names: Sequence[str] | str,
    symbol_set: str = "tacotron2",
    p_arpabet: float = 0.0,
    rng: UniformSource | None = None,
    dictionary: CMUDict | None = None,
    heteronyms: Set[str] | None = None,
    strict: bool = False,
) -> list[int]:
    """Symbol ids of ``text`` in the official table ``symbol_set``.

    ``p_arpabet``/``rng``/``dictionary``/``heteronyms`` are passed to ``substitute_arpabet`` (Flowtron
    uses 0.5, Mellotron 1.0, Tacotron 2 0); with p_arpabet > 0 words are re-joined by single spaces.
    ``dictionary`` also spells acronyms in ``flowtron_cleaners``; pass
    ``CMUDict.from_file("data/cmudict_dictionary", keep_ambiguous=False)`` to use Flowtron's own copy.
    """
    encoder = _Encoder(symbol_set, strict)
    pieces = []
    for part, is_span in split_spans(text):
        pieces.append("{" + part + "}" if is_span else clean_text(part, cleaner_names, dictionary))
    cleaned = "".join(pieces)
    if p_arpabet > 0.0:
        cleaned = substitute_arpabet(cleaned, p_arpabet, rng, dictionary, heteronyms)
    sequence: list[int] = []
    for part, is_span in split_spans(cleaned):
        sequence += encoder.encode(["@" + phone for phone in part.split()] if is_span else part)
    return sequence


def sequence_to_text(ids: Iterable[int], symbol_set: str = "tacotron2") -> str:
    """Inverse of ``text_to_sequence``: phones come back as ``{...}`` spans, adjacent ones merged."""
    table = symbol_table(symbol_set)
    out = []
    for raw in ids:
        index = int(raw)
        if not 0 <= index < len(table):
            raise ValueError(
                f"symbol id {index} is outside the {symbol_set!r} table (ids 0..{len(table) - 1}); "
                "was the sequence made with another symbol_set?"
            )
        symbol = table[index]
        out.append("{" + symbol[1:] + "}" if len(symbol) > 1 and symbol[0] == "@" else symbol)
    return "".join(out).replace("}{", " ")
