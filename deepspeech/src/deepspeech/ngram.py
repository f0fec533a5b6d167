"""Word n-gram language models in ARPA format, built and queried in Python (numpy, no native build).

``build_arpa`` estimates lmplz's modified Kneser-Ney model (three discounts per order from counts of
counts; kneser_ney.py, which streams the counts through sorted files on disk so a corpus larger than memory
can be used) and writes it in backoff form: for an interpolated model the backoff weight of a context
equals its interpolation weight gamma(h), so ``P(w|h) = bow(h) * P(w|h')`` for unseen words keeps every
conditional distribution summing to one. ``NGramLM`` reads any ARPA file (ours or KenLM's) and scores words with
backoff, returning natural-log probabilities for the beam search.

Why our own: the demo and tests must decode with an LM on any machine, with no native build (native CTC decoders
and KenLM are a frequent install problem of Deep Speech re-implementations).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from deepspeech import kneser_ney
from deepspeech.lm_files import KENLM_BINARY_MAGIC

log = logging.getLogger(__name__)

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10.0)
NO_PROB = -99.0  # ARPA convention for <s>, which is never predicted


def estimate_kneser_ney(sentences: Iterable[Sequence[str]], order: int,
                        memory_rows: int = kneser_ney.DEFAULT_MEMORY_ROWS) -> list[dict]:
    """Per order, {ngram: (log10 P, log10 bow)} of lmplz's modified Kneser-Ney model (kneser_ney.py),
    held in Python dicts: for small texts and tests; ``build_arpa`` streams large ones to disk."""
    return kneser_ney.estimate_tables(sentences, order, memory_rows)


def format_arpa(tables: list[dict]) -> str:
    """ARPA text: a \\data\\ header with counts, one section per order, then \\end\\."""
    lines = ["", "\\data\\"] + [f"ngram {k}={len(t)}" for k, t in enumerate(tables, 1)]
    for k, table in enumerate(tables, 1):
        lines += ["", f"\\{k}-grams:"]
        for gram in sorted(table):
            logp, bow = table[gram]
            entry = f"{logp:.6f}\t{' '.join(gram)}"
            lines.append(entry + (f"\t{bow:.6f}" if k < len(tables) else ""))
    return "\n".join([*lines, "", "\\end\\", ""])


def iter_sentences(path: str | os.PathLike) -> Iterator[list[str]]:
    """Whitespace-tokenised, lower-cased lines of a text file, plain or gzip (blank lines skipped), read one
    line at a time (the LibriSpeech LM corpus is 4 GB of text)."""
    path = Path(path)
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")) as f:
        for line in f:
            words = line.lower().split()
            if words:
                yield words


def read_sentences(path: str | os.PathLike) -> list[list[str]]:
    """All sentences of ``iter_sentences`` in a list (small files)."""
    return list(iter_sentences(path))


def build_arpa(text_path: str | os.PathLike, out_path: str | os.PathLike, order: int = 3,
               memory_rows: int = kneser_ney.DEFAULT_MEMORY_ROWS, workdir: str | os.PathLike | None = None) -> Path:
    """Estimate a modified Kneser-Ney LM of ``order`` from a text file (one sentence per line, .gz allowed)
    and write ARPA; counts stream through sorted files in ``workdir`` (default: the system temp folder), at
    most ``memory_rows`` n-gram rows in memory per sort."""
    kneser_ney.write_arpa(iter_sentences(text_path), out_path, order, memory_rows, workdir)
    return Path(out_path)


def _arpa_lines(path: Path) -> Iterable[str]:
    """Lines of an ARPA file, gunzipped when it is gzip; a KenLM binary or other non-text file is an error
    that says what to do instead."""
    if not path.is_file():
        raise FileNotFoundError(f"LM file {path} does not exist; build one with deepspeech-lm --text FILE")
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(KENLM_BINARY_MAGIC):
        raise ValueError(f"{path} is a KenLM binary, which only the flashlight decoder reads; pass "
                         "--decoder flashlight, or give the reference decoder the ARPA file it was built from")
    opener = gzip.open if head[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            yield from f
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 ARPA text; give an .arpa or .arpa.gz file") from None


class NGramLM:
    """Backoff scoring over an ARPA file: ln P(word | history), unknown words scored as <unk>."""

    def __init__(self, tables: list[dict]) -> None:
        self.tables = tables
        self.order = len(tables)
        self.unk_logp = tables[0].get((UNK,), (-10.0, 0.0))[0]

    @classmethod
    def load(cls, path: str | os.PathLike) -> NGramLM:
        """Read an ARPA file (plain or ``.gz``) with every word lower-cased, so an uppercase LM (OpenSLR's
        LibriSpeech LMs) meets the lower-cased words the decoder asks for. Words that differ only in case
        are merged, keeping the higher probability (logged)."""
        path = Path(path)
        tables: list[dict] = []
        section, merged = 0, 0
        for number, raw in enumerate(_arpa_lines(path), 1):
            line = raw.strip()
            if not line or line.startswith("ngram ") or line == "\\data\\":
                continue
            if line == "\\end\\":
                break
            if line.startswith("\\") and line.endswith("-grams:"):
                section = int(line[1:-7])
                tables.extend({} for _ in range(section - len(tables)))
                continue
            parts = line.split()
            if section == 0 or len(parts) < section + 1:
                raise ValueError(f"{path}:{number}: not an ARPA n-gram line: {raw!r}")
            bow = float(parts[section + 1]) if len(parts) > section + 1 else 0.0
            gram = tuple(w.lower() for w in parts[1 : section + 1])
            entry = (float(parts[0]), bow)
            old = tables[section - 1].get(gram)
            if old is not None:
                merged += 1
                entry = max(old, entry)
            tables[section - 1][gram] = entry
        if not tables or not tables[0]:
            raise ValueError(f"{path}: no n-grams found; is this an ARPA file?")
        if merged:
            log.warning("%s: %d n-grams differed only in letter case and were merged", path, merged)
        return cls(tables)

    def log10_prob(self, word: str, history: Sequence[str]) -> float:
        """log10 P(word | history) with ARPA backoff (only the last order-1 history words matter)."""
        history = tuple(history[-(self.order - 1):]) if self.order > 1 else ()
        if (word,) not in self.tables[0]:
            word = UNK
        backoff = 0.0
        for start in range(len(history) + 1):
            h = history[start:]
            entry = self.tables[len(h)].get((*h, word))
            if entry is not None:
                return backoff + entry[0]
            ctx = self.tables[len(h) - 1].get(h) if h else None
            backoff += ctx[1] if ctx else 0.0
        return backoff + self.unk_logp

    def score(self, word: str, history: Sequence[str]) -> float:
        """Natural-log P(word | history), the unit of the CTC scores it is added to."""
        return self.log10_prob(word, history) * LN10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build an ARPA modified Kneser-Ney n-gram LM from text "
                                     "(lmplz's estimate; counts streamed through disk, so any corpus size fits).")
    parser.add_argument("--text", required=True, help="text file, one sentence per line (.gz allowed)")
    parser.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    parser.add_argument("--out", required=True, help="output .arpa path")
    parser.add_argument("--memory-rows", type=int, default=kneser_ney.DEFAULT_MEMORY_ROWS,
                        help="n-gram rows held in memory per sort (default 2,000,000: about 0.3 GB at order 4)")
    parser.add_argument("--tmpdir", default=None, help="folder for the sorted count files (default: system temp)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not Path(args.text).is_file():
        parser.error(f"--text {args.text}: no such file")
    if args.order < 1 or args.memory_rows < 2:
        parser.error("--order must be >= 1 and --memory-rows >= 2")
    try:
        out = build_arpa(args.text, args.out, args.order, args.memory_rows, args.tmpdir)
    except (ValueError, UnicodeDecodeError) as e:
        print(f"error: {args.text}: {e}; give a UTF-8 text file with one sentence per line "
              "(deepspeech-lm --text FILE --out LM.arpa)", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
