"""Word n-gram language models in ARPA format, built and queried in pure Python.

``build_arpa`` estimates an interpolated Kneser-Ney model (Chen & Goodman 1998, one discount per order)
and writes it in backoff form: for an interpolated model the backoff weight of a context equals its
interpolation weight gamma(h), so ``P(w|h) = bow(h) * P(w|h')`` for unseen words keeps every conditional
distribution summing to one. ``NGramLM`` reads any ARPA file (ours or KenLM's) and scores words with
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
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from deepspeech.lm_files import KENLM_BINARY_MAGIC
from repro.atomic import atomic_write_text

log = logging.getLogger(__name__)

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10.0)
NO_PROB = -99.0  # ARPA convention for <s>, which is never predicted


def _ngrams(sentences: Iterable[Sequence[str]], order: int) -> list[Counter]:
    """Raw counts per order (index k-1 holds k-grams) over <s> w1 .. wn </s>."""
    counts = [Counter() for _ in range(order)]
    for words in sentences:
        padded = (BOS, *words, EOS)
        for k in range(1, order + 1):
            for i in range(len(padded) - k + 1):
                counts[k - 1][padded[i : i + k]] += 1
    return counts


def _adjusted_counts(raw: list[Counter]) -> list[Counter]:
    """Kneser-Ney counts: the top order keeps raw counts; lower orders count distinct left neighbours,
    except n-grams starting with <s>, which have no left neighbour and keep raw counts."""
    order = len(raw)
    adjusted = [Counter() for _ in range(order)]
    adjusted[-1] = Counter(raw[-1])
    for k in range(order - 1, 0, -1):  # fill order k (index k-1) from order k+1
        for gram in raw[k]:
            adjusted[k - 1][gram[1:]] += 1
        for gram, c in raw[k - 1].items():
            if gram[0] == BOS:
                adjusted[k - 1][gram] = c
    return adjusted


def _discount(counts: Counter) -> float:
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    if n1 == 0 or n2 == 0:
        return 0.5  # too little data for the estimate; a middle value keeps every order smoothed
    return min(max(n1 / (n1 + 2.0 * n2), 0.05), 0.95)


def estimate_kneser_ney(sentences: Iterable[Sequence[str]], order: int) -> list[dict]:
    """Per order, {ngram: (log10 P, log10 bow)} of an interpolated Kneser-Ney model."""
    if order < 1:
        raise ValueError(f"n-gram order must be >= 1, got {order}")
    adjusted = _adjusted_counts(_ngrams(sentences, order))
    if not adjusted[0]:
        raise ValueError("the LM text holds no words")
    vocab = sorted({g[0] for g in adjusted[0]} - {BOS} | {UNK})
    probs: list[dict[tuple[str, ...], float]] = []
    gammas: list[dict[tuple[str, ...], float]] = []
    for k in range(1, order + 1):
        counts = adjusted[k - 1]
        if k == 1:  # <s> is never predicted, so it takes no unigram mass
            counts = Counter({g: c for g, c in counts.items() if g[0] != BOS})
        D = _discount(counts)
        totals, types = defaultdict(float), defaultdict(int)
        for gram, c in counts.items():
            totals[gram[:-1]] += c
            types[gram[:-1]] += 1
        gamma = {h: D * types[h] / totals[h] for h in totals}
        p: dict[tuple[str, ...], float] = {}
        if k == 1:
            for w in vocab:
                seen = max(counts.get((w,), 0) - D, 0.0) / totals[()]
                p[(w,)] = seen + gamma[()] / len(vocab)
        else:
            for gram, c in counts.items():
                if gram[-1] == BOS:
                    continue
                # the suffix always has a lower-order entry: gram[0] is one of its left neighbours
                lower = probs[k - 2][gram[1:]]
                p[gram] = max(c - D, 0.0) / totals[gram[:-1]] + gamma[gram[:-1]] * lower
        probs.append(p)
        gammas.append(gamma)
    return _to_arpa_tables(probs, gammas, order)


def _to_arpa_tables(probs: list[dict], gammas: list[dict], order: int) -> list[dict]:
    tables = []
    for k in range(1, order + 1):
        table = {}
        for gram, p in probs[k - 1].items():
            bow = gammas[k].get(gram) if k < order else None
            table[gram] = (math.log10(p), math.log10(bow) if bow else 0.0)
        if k == 1:
            bow = gammas[1].get((BOS,)) if order > 1 else None
            table[(BOS,)] = (NO_PROB, math.log10(bow) if bow else 0.0)
        tables.append(table)
    return tables


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


def read_sentences(path: str | os.PathLike) -> list[list[str]]:
    """Whitespace-tokenised, lower-cased lines of a text file (blank lines skipped)."""
    text = Path(path).read_text(encoding="utf-8")
    return [line.lower().split() for line in text.splitlines() if line.strip()]


def build_arpa(text_path: str | os.PathLike, out_path: str | os.PathLike, order: int = 3) -> Path:
    """Estimate a Kneser-Ney LM of ``order`` from a text file (one sentence per line) and write ARPA."""
    tables = estimate_kneser_ney(read_sentences(text_path), order)
    return atomic_write_text(Path(out_path), format_arpa(tables))


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
    parser = argparse.ArgumentParser(description="Build an ARPA Kneser-Ney n-gram LM from text (pure Python).")
    parser.add_argument("--text", required=True, help="text file, one sentence per line")
    parser.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    parser.add_argument("--out", required=True, help="output .arpa path")
    args = parser.parse_args(argv)
    if not Path(args.text).is_file():
        parser.error(f"--text {args.text}: no such file")
    out = build_arpa(args.text, args.out, args.order)
    print(f"wrote {out}")
    return 0
