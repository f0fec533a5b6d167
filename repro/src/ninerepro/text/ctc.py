"""Character vocabularies for CTC models (Deep Speech 1/2, keyword spotting).

CTC needs one extra output class, the blank, which means "no new character here". It is index 0, the
convention of ``torch.nn.CTCLoss(blank=0)`` and of the reference implementations. Two layouts:

- ``CharVocab.english()``: blank, space, apostrophe, a-z (29 classes, the DS1/DS2 English alphabet);
- ``CharVocab.deepspeech_pytorch()``: blank "_", apostrophe, A-Z, space, the label order of
  SeanNaren/deepspeech.pytorch, so its checkpoints' output layers line up.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence

from unidecode import unidecode

BLANK = "<blank>"
_LETTERS_LOWER = string.ascii_lowercase


def ctc_collapse(ids: Iterable[int], blank: int = 0) -> list[int]:
    """Greedy CTC post-processing: merge runs of the same id, then drop blanks ("aa_ab" -> "aab")."""
    out: list[int] = []
    previous = None
    for raw in ids:
        index = int(raw)
        if index != previous and index != blank:
            out.append(index)
        previous = index
    return out


def normalize_for_ctc(text: str, upper: bool = False) -> str:
    """Map a transcript onto letters, apostrophe and single spaces.

    Case is folded, hyphens and other punctuation become word breaks or vanish ("well-known" ->
    "well known", "ok." -> "ok"), and whitespace is collapsed and stripped. Digits are *not* spelled
    out (do that first, e.g. with ``english_cleaners``) and are removed like other symbols.
    """
    text = unidecode(text).lower()  # "café" -> "cafe", curly apostrophe -> "'"
    text = re.sub(r"[-/_]", " ", text)
    text = re.sub(r"[^a-z' ]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.upper() if upper else text


class CharVocab:
    """Characters <-> class ids with the CTC blank at index 0."""

    def __init__(self, characters: Sequence[str]) -> None:
        if len(set(characters)) != len(characters) or any(len(c) != 1 for c in characters):
            raise ValueError(f"characters must be distinct single characters, got {list(characters)!r}")
        self.symbols: tuple[str, ...] = (BLANK, *characters)
        self._ids = {c: i for i, c in enumerate(self.symbols) if i > 0}
        self.upper = any(c.isupper() for c in characters)

    @classmethod
    def english(cls) -> CharVocab:
        return cls([" ", "'", *_LETTERS_LOWER])

    @classmethod
    def deepspeech_pytorch(cls) -> CharVocab:
        return cls(["'", *_LETTERS_LOWER.upper(), " "])

    @property
    def blank(self) -> int:
        return 0

    def __len__(self) -> int:
        return len(self.symbols)

    def normalize(self, text: str) -> str:
        """``normalize_for_ctc`` in this vocabulary's letter case."""
        return normalize_for_ctc(text, upper=self.upper)

    def encode(self, text: str) -> list[int]:
        """Class ids of ``text``; any character outside the vocabulary is an error naming it."""
        ids = []
        for position, char in enumerate(text):
            index = self._ids.get(char)
            if index is None:
                raise ValueError(
                    f"character {char!r} at position {position} of {text!r} is not in the CTC vocabulary "
                    f"{''.join(self.symbols[1:])!r}; run vocab.normalize(text) first"
                )
            ids.append(index)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Characters of ``ids`` (blanks skipped, repeats kept: collapse first for raw network output)."""
        chars = []
        for raw in ids:
            index = int(raw)
            if not 0 <= index < len(self.symbols):
                raise ValueError(f"class id {index} is outside this vocabulary (0..{len(self.symbols) - 1})")
            if index != 0:
                chars.append(self.symbols[index])
        return "".join(chars)

    def decode_greedy(self, ids: Iterable[int]) -> str:
        """Text of a frame-wise argmax path: collapse repeats, drop blanks, then decode."""
        return self.decode(ctc_collapse(ids, blank=0))
