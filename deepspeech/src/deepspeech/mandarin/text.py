"""Mandarin text for CTC: normalisation, the character vocabulary built from training transcripts, CER.

Normalisation (``normalize_cmn``), applied to every transcript before training, to references and to
hypotheses before scoring:

* full-width ASCII (U+FF01-U+FF5E) becomes half-width, the ideographic space U+3000 a space;
* Latin letters are lower-cased (one class per letter, as in the English model);
* everything that is not a Han character, a Latin letter or a digit is removed: Chinese and ASCII punctuation,
  symbols and all whitespace, so AISHELL-1's word segmentation ("而 对 楼市") disappears ("而对楼市").

The vocabulary (``MandarinVocab``) is blank (0), unknown (1), then the characters that occur in the training
transcripts, in code-point order (so the same transcripts always give the same ids). A model saves it in its
config as ``model.vocab = "cmn:<characters>"`` (``vocab_spec``), so a checkpoint carries its own alphabet and
says which language it is. Characters never seen in training map to the unknown class when a *reference* is
encoded for scoring; in training transcripts they are an error that lists them (``unknown_characters``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from ninerepro.atomic import atomic_write_text
from ninerepro.metrics import cer as _cer
from ninerepro.metrics import edit_stats
from ninerepro.text.ctc import BLANK, CharVocab

UNK = "\ufffd"
"""the unknown class's symbol: one character (U+FFFD REPLACEMENT CHARACTER), so decoding stays one symbol per id"""
UNK_NAME = "<unk>"
SPEC_PREFIX = "cmn:"
FILE_PREFIX = "file:"
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_DROP = re.compile(f"[^0-9a-z{_HAN}]")
_IS_HAN = re.compile(f"[{_HAN}]")


def to_half_width(text: str) -> str:
    """Full-width ASCII forms (Ａ, １, ！) to their half-width characters, U+3000 to a space."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        elif code == 0x3000:
            ch = " "
        out.append(ch)
    return "".join(out)


def normalize_cmn(text: str) -> str:
    """The form every Mandarin transcript is trained and scored in: Han characters, a-z, 0-9, no spaces."""
    text = unicodedata.normalize("NFC", to_half_width(text)).lower()
    return _DROP.sub("", text)


def is_han(ch: str) -> bool:
    return bool(_IS_HAN.fullmatch(ch))


class MandarinVocab(CharVocab):
    """Blank (0), unknown (1), then single characters (Han, a-z, 0-9) in code-point order."""

    lang = "cmn"

    def __init__(self, characters: Sequence[str]) -> None:
        chars = list(characters)
        bad = [c for c in chars if c != normalize_cmn(c) or len(c) != 1]
        if bad:
            raise ValueError(f"Mandarin vocabulary entries must be normalised single characters; got {bad[:10]}")
        super().__init__([UNK, *chars])

    @property
    def unk(self) -> int:
        return 1

    @property
    def characters(self) -> str:
        """The characters after blank and unknown, as one string (what ``vocab_spec`` saves)."""
        return "".join(self.symbols[2:])

    def normalize(self, text: str) -> str:
        return normalize_cmn(text)

    def encode(self, text: str) -> list[int]:
        """Class ids; characters outside the vocabulary become the unknown class (scoring references only:
        training transcripts are checked first with ``unknown_characters``)."""
        return [self._ids.get(c, 1) for c in text]

    def unknown_characters(self, text: str) -> list[str]:
        """Characters of normalised ``text`` that are not in the vocabulary, sorted, each once."""
        return sorted({c for c in normalize_cmn(text) if c not in self._ids or c == UNK})


def build_vocab(transcripts: Iterable[str], min_count: int = 1) -> MandarinVocab:
    """The vocabulary of ``transcripts`` (normalised first): every character seen at least ``min_count`` times."""
    counts = Counter(c for t in transcripts for c in normalize_cmn(t))
    if not counts:
        raise ValueError("no characters left after normalisation; are these Mandarin transcripts?")
    return MandarinVocab(sorted(c for c, n in counts.items() if n >= min_count))


def vocab_spec(vocab: MandarinVocab) -> str:
    """The ``model.vocab`` value that saves this vocabulary inside a config (and so in every checkpoint)."""
    return SPEC_PREFIX + vocab.characters


def vocab_from_spec(spec: str) -> MandarinVocab:
    """``cmn:<characters>`` (saved in a checkpoint) or ``file:<vocab.txt>`` (``save_vocab``'s file)."""
    if spec.startswith(SPEC_PREFIX):
        return MandarinVocab(list(spec[len(SPEC_PREFIX):]))
    if spec.startswith(FILE_PREFIX):
        return load_vocab(spec[len(FILE_PREFIX):])
    raise ValueError(f"model.vocab={spec[:40]!r}: a Mandarin vocabulary is 'cmn:<characters>' or 'file:<vocab.txt>'")


def save_vocab(vocab: MandarinVocab, path: str | os.PathLike) -> Path:
    """One symbol per line: <blank>, <unk>, then the characters (the vocab.txt layout of PaddleSpeech/ESPnet)."""
    return atomic_write_text(Path(path), "\n".join([BLANK, UNK_NAME, *vocab.symbols[2:]]) + "\n")


def load_vocab(path: str | os.PathLike) -> MandarinVocab:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vocabulary {path} does not exist; build it with "
                                "`python -m deepspeech.mandarin.vocab --manifest TRAIN.jsonl --out VOCAB.txt`")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    if lines[:2] != [BLANK, UNK_NAME]:
        raise ValueError(f"{path}: a Mandarin vocabulary starts with the lines {BLANK} and {UNK_NAME}; rebuild it "
                         "with `python -m deepspeech.mandarin.vocab`")
    return MandarinVocab(lines[2:])


def vocab_lang(vocab: CharVocab) -> str:
    """'cmn' for a Mandarin character vocabulary, 'en' for the English alphabets."""
    return getattr(vocab, "lang", "en")


def cer_cmn(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus CER after ``normalize_cmn`` on both sides (no spaces, so only characters are counted)."""
    return _cer([normalize_cmn(r) for r in references], [normalize_cmn(h) for h in hypotheses])


def score_cmn(references: Sequence[str], hypotheses: Sequence[str]) -> dict:
    """``evaluate.score``'s report for Mandarin: CER, per-utterance rows worst first; WER is None (our
    hypotheses carry no word segmentation, DS2 scores Mandarin by CER only)."""
    refs = [normalize_cmn(r) for r in references]
    hyps = [normalize_cmn(h) for h in hypotheses]
    rows = []
    for i, (r, h) in enumerate(zip(refs, hyps)):
        errors = edit_stats([r], [h], "char").errors
        rows.append({"index": i, "reference": r, "hypothesis": h, "char_errors": errors, "ref_chars": len(r),
                     "word_errors": errors, "ref_words": len(r), "cer": errors / len(r) if r else float(len(h))})
    rows.sort(key=lambda row: (-row["cer"], -row["char_errors"], row["index"]))
    return {"wer": None, "cer": _cer(refs, hyps), "n": len(refs), "lang": "cmn", "utterances": rows}


def check_lang(lang: str | None, vocab: CharVocab, where: str) -> None:
    """Refuse a checkpoint whose saved vocabulary is not in the language the user asked for (``--lang``)."""
    if lang is None:
        return
    have = vocab_lang(vocab)
    if lang != have:
        what = (f"a Mandarin character vocabulary ({len(vocab)} classes)" if have == "cmn"
                else f"the English alphabet {''.join(vocab.symbols[1:])!r}")
        raise ValueError(f"{where}: --lang {lang} but this checkpoint's saved vocabulary is {what}, i.e. --lang "
                         f"{have}; pass a {'Mandarin' if lang == 'cmn' else 'English'} checkpoint "
                         f"(e.g. from `make demo-deepspeech{' LANG=cmn' if lang == 'cmn' else ''}`) or --lang {have}")
