"""Generator training data: (state, human tactic) per traced tactic, with retrieved premises prepended.

As in RP ``generation/datamodule.py``: every tactic is an example (with or without premises); targets are
the raw tactic text without marks; with a retriever, each state's top premises are retrieved once before
training and each is dropped with probability ``p_drop`` every time the example is read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from reprover.data.benchmark import positive_premises
from reprover.data.records import TheoremRecord, remove_marks
from reprover.generation.augment import format_augmented_state, rename_input_premises
from reprover.retrieval.premise_text import premise_text
from reprover.retrieval.retriever import Query, Retriever


class PremiseRefs(Sequence[str]):
    """Retrieved premises of one example as row numbers into one shared list of premise texts.

    A Lean 4 train split has ~200k tactics x 100 retrieved premises; holding each example's texts would copy
    ~20M strings. An int32 row per premise (400 bytes per example) reads back as the same texts.
    """

    __slots__ = ("_ids", "_texts")

    def __init__(self, texts: Sequence[str], ids: np.ndarray) -> None:
        self._texts, self._ids = texts, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._texts[j] for j in self._ids[i]]
        return self._texts[self._ids[i]]

    def __iter__(self) -> Iterator[str]:
        return (self._texts[j] for j in self._ids)


@dataclass(frozen=True)
class GeneratorExample:
    state: str
    tactic: str
    premises: Sequence[str] = ()
    """retrieved premise texts, best first (empty without retrieval); a :class:`PremiseRefs` when retrieved"""


def generator_examples(theorems: list[TheoremRecord], retriever: Retriever | None = None,
                       num_retrieved: int = 100, chunk: int = 1024, insert_gold: bool = False,
                       seed: int = 0) -> list[GeneratorExample]:
    """One example per traced tactic; retrieval runs ``chunk`` states at a time (bounded memory).

    ``insert_gold`` (toy-demo deviation, RP: off): an example whose ``num_retrieved`` premises miss every
    positive premise of its tactic gets its first positive premise at a uniformly random rank (seeded by
    ``seed``), replacing the premise there. Why: a generator trained with renamed premises
    (``data.rename_premises``) can only fit such an example by memorising the original name, which teaches
    it the opposite of copying; with the gold premise always in the input, copying is the one rule that fits
    every example. The rank is random so that the generator does not learn "copy the premise at rank k".
    With a byte budget smaller than ``num_retrieved`` premises need, an inserted premise can still be cut.
    """
    rows = [(thm, tac) for thm in theorems for tac in thm.traced_tactics]
    premises: list[Sequence[str]] = [()] * len(rows)
    rng = random.Random(seed)
    if retriever is not None and rows:
        corpus = retriever.corpus
        texts = [premise_text(p) for p in corpus.premises]
        for lo in range(0, len(rows), chunk):
            part = rows[lo:lo + chunk]
            ranked = retriever.retrieve([Query(tac.state_before, thm.file_path, thm.start) for thm, tac in part],
                                        num_retrieved)
            for j, r in enumerate(ranked):
                ids = np.fromiter((corpus.index_of(p) for p, _ in r), dtype=np.int32, count=len(r))
                if insert_gold:
                    thm, tac = part[j]
                    _insert_gold(ids, [corpus.index_of(g) for g in positive_premises(corpus, thm, tac)], rng)
                premises[lo + j] = PremiseRefs(texts, ids)
    return [GeneratorExample(tac.state_before, remove_marks(tac.tactic), ps)
            for (_, tac), ps in zip(rows, premises, strict=True)]


def _insert_gold(ids: np.ndarray, gold: list[int], rng: random.Random) -> None:
    """In place: if ``ids`` holds none of ``gold``, put ``gold[0]`` at a random position of ``ids``."""
    if gold and len(ids) and not np.isin(ids, gold).any():
        ids[rng.randrange(len(ids))] = gold[0]


class GeneratorDataset(Dataset):
    def __init__(self, examples: list[GeneratorExample], max_inp_seq_len: int, p_drop: float,
                 rename_premises: float = 0.0) -> None:
        """``rename_premises``: probability that an example's in-input premise names are replaced by fresh
        random ones (input and target alike) when it is read; see :func:`rename_input_premises`."""
        if not examples:
            raise ValueError("no generator examples: the training split has no traced tactics")
        if not 0.0 <= rename_premises <= 1.0:
            raise ValueError(f"rename_premises must be in [0, 1], got {rename_premises}")
        self.examples, self.max_inp_seq_len, self.p_drop = examples, max_inp_seq_len, p_drop
        self.rename_premises = rename_premises

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> tuple[str, str]:
        ex = self.examples[i]
        rename = bool(ex.premises) and self.rename_premises > 0.0 and random.random() < self.rename_premises
        text = format_augmented_state(ex.state, ex.premises, self.max_inp_seq_len, self.p_drop, random,
                                      keep_marks=rename)
        return rename_input_premises(text, ex.tactic, random) if rename else (text, ex.tactic)


class GeneratorCollator:
    """Pads inputs and targets; target padding becomes -100 so the loss ignores it."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_inp_seq_len: int, max_oup_seq_len: int) -> None:
        self.tokenizer, self.max_inp, self.max_oup = tokenizer, max_inp_seq_len, max_oup_seq_len

    def __call__(self, items: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
        inputs, targets = zip(*items, strict=True)
        enc = self.tokenizer(list(inputs), padding="longest", max_length=self.max_inp + 1, truncation=True,
                             return_tensors="pt")
        tgt = self.tokenizer(list(targets), padding="longest", max_length=self.max_oup, truncation=True,
                             return_tensors="pt")
        labels = tgt["input_ids"].masked_fill(tgt["attention_mask"] == 0, -100)
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels}
