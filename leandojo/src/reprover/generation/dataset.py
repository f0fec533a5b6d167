"""Generator training data: (state, human tactic) per traced tactic, with retrieved premises prepended.

As in RP ``generation/datamodule.py``: every tactic is an example (with or without premises); targets are
the raw tactic text without marks; with a retriever, each state's top premises are retrieved once before
training and each is dropped with probability ``p_drop`` every time the example is read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from reprover.data.records import TheoremRecord, remove_marks
from reprover.generation.augment import format_augmented_state
from reprover.retrieval.premise_text import premise_text
from reprover.retrieval.retriever import Query, Retriever


@dataclass(frozen=True)
class GeneratorExample:
    state: str
    tactic: str
    premises: tuple[str, ...] = ()
    """retrieved premise texts, best first (empty without retrieval)"""


def generator_examples(theorems: list[TheoremRecord], retriever: Retriever | None = None,
                       num_retrieved: int = 100) -> list[GeneratorExample]:
    """One example per traced tactic; retrieval is batched over the whole split."""
    rows = [(thm, tac) for thm in theorems for tac in thm.traced_tactics]
    premises: list[tuple[str, ...]] = [()] * len(rows)
    if retriever is not None and rows:
        queries = [Query(tac.state_before, thm.file_path, thm.start) for thm, tac in rows]
        ranked = retriever.retrieve(queries, num_retrieved)
        premises = [tuple(premise_text(p) for p, _ in r) for r in ranked]
    return [GeneratorExample(tac.state_before, remove_marks(tac.tactic), ps)
            for (_, tac), ps in zip(rows, premises, strict=True)]


class GeneratorDataset(Dataset):
    def __init__(self, examples: list[GeneratorExample], max_inp_seq_len: int, p_drop: float) -> None:
        if not examples:
            raise ValueError("no generator examples: the training split has no traced tactics")
        self.examples, self.max_inp_seq_len, self.p_drop = examples, max_inp_seq_len, p_drop

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> tuple[str, str]:
        ex = self.examples[i]
        text = format_augmented_state(ex.state, ex.premises, self.max_inp_seq_len, self.p_drop, random)
        return text, ex.tactic


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
