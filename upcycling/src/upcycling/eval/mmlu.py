"""MMLU (Hendrycks et al. 2021) k-shot multiple-choice accuracy, the paper's Table 1 metric (5-shot).

Data: the official release (``data.tar`` of hendrycks/test) unpacked, read as is, nothing downloaded:
``DIR/dev/{subject}_dev.csv`` (the 5 few-shot examples per subject) and ``DIR/test/{subject}_test.csv``
(``val`` also works as the split); headerless CSV rows ``question, A, B, C, D, answer-letter``. ``DIR`` may
also be the folder holding ``data/``.

Prompt: exactly the official ``evaluate.py``'s: a header "The following are multiple choice questions (with
answers) about {subject}.\\n\\n", where the official ``format_subject`` joins the subject's words each with a
leading space (so the header has two spaces after "about"; kept, as it is what the reported numbers used),
then the k dev examples and the test question, each "question\\nA. ...\\nB. ...\\nC. ...\\nD. ...\\nAnswer:"
plus " X\\n\\n" for the examples. When the prompt is longer than the model's context the number of shots is
reduced, as the official script does.

Scoring: the log-likelihood of each continuation " A" … " D" after the prompt (one forward pass per question
scores all four: they share the prompt), highest wins. For tokenizers where " A" is one token this is the
official next-token comparison; for the byte tokenizer it is the log-probability of "A" after the space.
Reported: accuracy over all questions (the official "average accuracy") and per subject.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

CHOICES = ("A", "B", "C", "D")


@dataclass
class Question:
    subject: str
    question: str
    options: tuple[str, str, str, str]
    answer: str
    """one of A, B, C, D"""


def data_root(path: str | os.PathLike) -> Path:
    """The folder that holds ``dev/`` and ``test/`` (accepts the folder above it, which holds ``data/``)."""
    p = Path(path)
    for cand in (p, p / "data"):
        if (cand / "dev").is_dir():
            return cand
    raise FileNotFoundError(f"--data {p}: no dev/ folder; pass the unpacked MMLU data folder (holding dev/ and "
                            "test/, from the official data.tar)")


def read_split(path: str | os.PathLike, subject: str) -> list[Question]:
    """One official CSV: headerless rows question, A, B, C, D, answer letter."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if len(row) != 6 or row[5].strip() not in CHOICES:
                raise ValueError(f"{path}: line {n}: expected 6 fields ending in an answer letter A-D, got {row[:6]}")
            out.append(Question(subject, row[0], (row[1], row[2], row[3], row[4]), row[5].strip()))
    return out


def subjects(root: Path, split: str = "test") -> list[str]:
    names = sorted(p.name[: -len(f"_{split}.csv")] for p in (root / split).glob(f"*_{split}.csv"))
    if not names:
        raise FileNotFoundError(f"{root / split}: no *_{split}.csv files; is this the MMLU data folder?")
    return names


def format_subject(subject: str) -> str:
    """The official helper: every word with a leading space ("abstract_algebra" → " abstract algebra")."""
    return "".join(" " + w for w in subject.split("_"))


def format_example(q: Question, include_answer: bool = True) -> str:
    text = q.question + "".join(f"\n{c}. {o}" for c, o in zip(CHOICES, q.options, strict=True)) + "\nAnswer:"
    return text + (f" {q.answer}\n\n" if include_answer else "")


def build_prompt(dev: Sequence[Question], q: Question, k: int) -> str:
    header = f"The following are multiple choice questions (with answers) about {format_subject(q.subject)}.\n\n"
    return header + "".join(format_example(d) for d in dev[:k]) + format_example(q, include_answer=False)


class Scorer:
    """What the evaluator needs from a model: a tokenizer, a context length and next-token log-probabilities."""

    max_len: int

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def logprobs(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [1, S] → log-softmax [1, S, V] of the next token at every position."""
        raise NotImplementedError


def choice_scores(scorer: Scorer, prompt_ids: list[int], continuations: Sequence[list[int]]) -> list[float]:
    """Log-likelihood of each continuation after the prompt, from one forward pass over the longest one."""
    longest = max(continuations, key=len)
    shared = all(c[:-1] == longest[: len(c) - 1] for c in continuations)  # e.g. byte " A": ' ' then 'A'
    if not shared:
        return [_one(scorer, prompt_ids, c) for c in continuations]
    seq = torch.tensor([prompt_ids + longest[:-1]])
    lp = scorer.logprobs(seq)[0]  # [S, V]
    start = len(prompt_ids) - 1
    return [sum(lp[start + i, t].item() for i, t in enumerate(c)) for c in continuations]


def _one(scorer: Scorer, prompt_ids: list[int], cont: list[int]) -> float:
    lp = scorer.logprobs(torch.tensor([prompt_ids + cont[:-1]]))[0]
    start = len(prompt_ids) - 1
    return sum(lp[start + i, t].item() for i, t in enumerate(cont))


@dataclass
class MMLUResult:
    accuracy: float
    """over all questions (the official average)"""
    per_subject: dict[str, float]
    n_questions: int
    shots: int
    reduced_shots: int = 0
    """questions whose prompt had to drop examples to fit the context"""
    predictions: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"accuracy": self.accuracy, "macro_accuracy": sum(self.per_subject.values()) / len(self.per_subject),
                "per_subject": self.per_subject, "n_questions": self.n_questions, "shots": self.shots,
                "reduced_shots": self.reduced_shots}


def evaluate(scorer: Scorer, data: str | os.PathLike, *, shots: int = 5, split: str = "test",
             only: Sequence[str] | None = None, limit: int = 0,
             progress: Callable[[str, float], None] | None = None) -> MMLUResult:
    """k-shot accuracy of ``scorer`` on the MMLU folder ``data`` (``limit`` questions per subject, 0 = all)."""
    root = data_root(data)
    names = subjects(root, split)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"unknown MMLU subject(s) {unknown}; available: {', '.join(names)}")
        names = [n for n in names if n in only]
    conts = [scorer.encode(f" {c}") for c in CHOICES]
    correct, per_subject, predictions, reduced = 0, {}, [], 0
    total = 0
    for name in names:
        dev = read_split(root / "dev" / f"{name}_dev.csv", name)
        test = read_split(root / split / f"{name}_{split}.csv", name)[: limit or None]
        hits = 0
        for q in test:
            k = shots
            ids = scorer.encode(build_prompt(dev, q, k))
            while k > 0 and len(ids) + max(map(len, conts)) > scorer.max_len:
                k -= 1
                ids = scorer.encode(build_prompt(dev, q, k))
            reduced += k < shots
            ids = ids[-(scorer.max_len - max(map(len, conts))):]
            scores = choice_scores(scorer, ids, conts)
            pred = CHOICES[max(range(4), key=scores.__getitem__)]
            predictions.append(pred)
            hits += pred == q.answer
        per_subject[name] = hits / len(test)
        correct, total = correct + hits, total + len(test)
        if progress:
            progress(name, per_subject[name])
    return MMLUResult(correct / total, per_subject, total, shots, reduced, predictions)


def write_result(result: MMLUResult, path: str | os.PathLike) -> None:
    from ninerepro.atomic import atomic_write_text

    atomic_write_text(Path(path), json.dumps(result.to_json(), indent=2) + "\n")
