"""Posteriorgrams and LMs for decoder tests: noisy but decodable CTC outputs of known sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepspeech.ngram import build_arpa
from ninerepro.text.ctc import CharVocab

LM_TEXT = [
    "the cat sat on the mat", "the dog ran to the park", "a cat ran after the dog", "she sat by the window",
    "the man read a book", "he read the paper on the train", "the train ran late", "a dog sat on the mat",
    "she read the book to the cat", "the park was quiet at night", "he walked the dog in the park",
    "the window was open", "they sat in the park", "the book was on the table", "a man sat by the door",
]
SENTENCES = ["the cat sat on the mat", "the dog ran to the park", "she read the book",
             "he sat by the window", "the man walked the dog", "a cat read the paper"]


def write_lm(folder: Path, order: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lm.txt").write_text("\n".join(LM_TEXT * 3) + "\n")
    return build_arpa(folder / "lm.txt", folder / "lm.arpa", order)


def uppercase_arpa(src: Path, dst: Path) -> Path:
    """The same LM with every word upper-cased, as OpenSLR's LibriSpeech ARPA files are (``<UNK>`` too)."""
    out = []
    for line in src.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and not line.startswith("ngram"):
            parts[1] = " ".join(w if w in ("<s>", "</s>") else w.upper() for w in parts[1].split())
        out.append("\t".join(parts))
    dst.write_text("\n".join(out) + "\n")
    return dst


def noisy_posteriors(text: str, vocab: CharVocab, seed: int, confusion: float = 0.45) -> np.ndarray:
    """[T, C] log-posteriors spelling ``text`` (2 frames per character, a blank after each), where some
    letters lose part of their mass to a random other letter, so greedy makes spelling errors an LM fixes."""
    rng = np.random.default_rng(seed)
    letters = [i for i, s in enumerate(vocab.symbols) if s.isalpha()]
    frames = []
    for ch in vocab.normalize(text):
        c = vocab.symbols.index(ch)
        for _ in range(2):
            p = np.full(len(vocab), 0.02 / len(vocab))
            if ch != " " and rng.random() < 0.25:
                other = int(rng.choice([i for i in letters if i != c]))
                share = float(rng.uniform(0.3, 0.6)) * confusion * 2
                p[c], p[other] = 1.0 - share, share
            else:
                p[c] = 1.0
            frames.append(p / p.sum())
        blank = np.full(len(vocab), 0.05 / len(vocab))
        blank[0] = 1.0
        frames.append(blank / blank.sum())
    return np.log(np.stack(frames))


def to_vocab(log_probs: np.ndarray, src: CharVocab, dst: CharVocab) -> np.ndarray:
    """The same posteriors with columns reordered from ``src``'s label order to ``dst``'s (case-folded)."""
    index = [0] + [src.symbols.index(s.lower() if not src.upper else s.upper()) for s in dst.symbols[1:]]
    return log_probs[:, index]
