"""Retriever training data: one example per (tactic, positive premise), with sampled hard negatives.

Following RP ``retrieval/datamodule.py``: tactics without a locatable premise are skipped in
training; each example draws ``num_negatives`` negatives among the premises accessible to the theorem, of
which ``num_in_file_negatives`` come from the *positive premise's own file* (hard: same topic, same
vocabulary) and the rest from everywhere else that is accessible. If the file has too few other
premises, the remainder is random. The collate function scores each state against every positive and
negative in the batch (in-batch negatives) and builds the 0/1 label matrix from each state's full positive set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from reprover.data.benchmark import positive_premises
from reprover.data.corpus import Corpus
from reprover.data.positions import Pos
from reprover.data.records import Premise, TheoremRecord
from reprover.retrieval.premise_text import premise_text


@dataclass(frozen=True)
class RetrievalExample:
    state: str
    file_path: str
    theorem_pos: Pos
    positive: Premise
    all_positives: frozenset[Premise]


def retrieval_examples(corpus: Corpus, theorems: list[TheoremRecord]) -> list[RetrievalExample]:
    """Every (tactic, positive) pair of ``theorems``, in record order."""
    out: list[RetrievalExample] = []
    for thm in theorems:
        for tac in thm.traced_tactics:
            positives = positive_premises(corpus, thm, tac)
            group = frozenset(positives)
            out.extend(RetrievalExample(tac.state_before, thm.file_path, thm.start, p, group) for p in positives)
    return out


class RetrievalDataset(Dataset):
    """Examples with negatives drawn afresh each time an item is read (from Python's seeded RNG)."""

    def __init__(self, corpus: Corpus, examples: list[RetrievalExample], num_negatives: int,
                 num_in_file_negatives: int) -> None:
        if not examples:
            raise ValueError("no training examples: no tactic of the training split names a premise found in the "
                             f"corpus {corpus.source}")
        if len(corpus) < 2:
            raise ValueError(f"the corpus {corpus.source} needs at least 2 premises to draw negatives")
        self.corpus, self.examples = corpus, examples
        self.num_negatives, self.num_in_file = num_negatives, num_in_file_negatives
        self._masks: dict[tuple[str, Pos], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> tuple[RetrievalExample, list[Premise]]:
        ex = self.examples[i]
        return ex, self.sample_negatives(ex, random)

    def _accessible(self, ex: RetrievalExample) -> np.ndarray:
        """Indices of the premises accessible to the example's theorem (a small LRU: masks are corpus-sized)."""
        key = (ex.file_path, ex.theorem_pos)
        if key in self._masks:
            self._masks[key] = self._masks.pop(key)  # most recent last
        else:
            self._masks[key] = np.flatnonzero(self.corpus.accessible_mask(*key))
            if len(self._masks) > 64:
                self._masks.pop(next(iter(self._masks)))
        return self._masks[key]

    def sample_negatives(self, ex: RetrievalExample, rng: random.Random) -> list[Premise]:
        """``num_in_file`` from the positive's file (as many as exist), the rest from other accessible files."""
        pos_idx = self.corpus.index_of(ex.positive)
        f = self.corpus.files[ex.positive.path]
        accessible = self._accessible(ex)
        accessible = accessible[accessible != pos_idx]
        same_file = (accessible >= f.lo) & (accessible < f.hi)
        in_file, outside = accessible[same_file], accessible[~same_file]
        n_in = min(len(in_file), self.num_in_file)
        picked = [int(in_file[j]) for j in rng.sample(range(len(in_file)), n_in)]
        n_out = self.num_negatives - n_in
        if len(outside) >= n_out:
            picked += [int(outside[j]) for j in rng.sample(range(len(outside)), n_out)]
        else:  # tiny corpora: take all there is, then any premise but the positive
            picked += [int(i) for i in outside]
            while len(picked) < self.num_negatives:
                i = rng.randrange(len(self.corpus))
                if i != pos_idx:
                    picked.append(i)
        return [self.corpus.premises[i] for i in picked]


class RetrievalCollator:
    """Tokenizes states and candidates into one padded batch so the encoder runs once per step."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_seq_len: int) -> None:
        self.tokenizer, self.max_seq_len = tokenizer, max_seq_len

    def __call__(self, items: list[tuple[RetrievalExample, list[Premise]]]) -> dict[str, torch.Tensor]:
        b = len(items)
        n_neg = len(items[0][1])
        # candidate order as in RP: the B positives, then negative #0 of every example, negative #1, ...
        candidates = [ex.positive for ex, _ in items] + [negs[j] for j in range(n_neg) for _, negs in items]
        labels = torch.tensor([[float(c in ex.all_positives) for c in candidates] for ex, _ in items])  # [B, C]
        texts = [ex.state for ex, _ in items] + [premise_text(p) for p in candidates]
        enc = self.tokenizer(texts, padding="longest", max_length=self.max_seq_len, truncation=True,
                             return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels,
                "num_queries": torch.tensor(b)}
