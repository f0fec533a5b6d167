"""Open-domain QA files in the formats CGAP's data comes in, read strictly with errors that name file and line.

- DPR ``qas/*.csv`` (``nq-test.qa.csv``): one question per line, ``question<TAB>['answer', ...]``, the answer
  list a Python literal parsed with ``ast.literal_eval`` (as DPR and CGAP do; never ``eval``). No passage.
- DPR retriever training JSON (``biencoder-nq-train.json``): a list of ``{question, answers, positive_ctxs:
  [{title, text, ...}], ...}``; the demonstration passage is ``positive_ctxs[0]``.
- FiD JSON (``NQ/train.json``): a list of ``{question, answers, target?, ctxs: [{id, title, text}]}``; the
  official CGAP pool uses ``ctxs[0]`` and, for TriviaQA, ``target`` as the demonstration answer.

Every reader returns :class:`QAItem` records whose ``id`` is stable (the file's own id, else the 0-based
position), since stage outputs are keyed by it.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from ninerepro.data.filelists import DataFormatError, numbered_lines

__all__ = ["DataFormatError", "QAItem", "read_dpr_biencoder", "read_dpr_qas", "read_fid_json", "read_questions"]


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    target: str | None = None
    title: str = ""
    text: str = ""

    @property
    def demo_answer(self) -> str:
        """The answer a demonstration shows: ``target`` if present, else the first gold answer (official)."""
        return self.target if self.target else self.answers[0]

    @property
    def pool_text(self) -> str:
        """What the pool is embedded by (official ``emb_type='query_ctx'``): question, passage text, title."""
        return f"{self.question} {self.text} {self.title}"


def _answers(value: object, where: str, question: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
        raise DataFormatError(f"{where}: answers must be a list of strings, got {value!r}")
    if len(value) == 0:
        raise DataFormatError(f"{where}: question {question!r} has an empty gold answer list; add its answers "
                              f"or delete the line")
    return tuple(value)


def read_dpr_qas(path: str | Path) -> list[QAItem]:
    """DPR ``*.qa.csv``; ids are the 0-based line index among non-blank lines."""
    items = []
    for number, line in numbered_lines(path):
        where = f"{path}:{number}"
        question, sep, literal = line.partition("\t")
        if not sep or not question.strip():
            raise DataFormatError(f"{where}: expected 'question<TAB>[\"answer\", ...]' (DPR qas format), got "
                                  f"{line[:60]!r}")
        try:
            value = ast.literal_eval(literal.strip())
        except (ValueError, SyntaxError):
            raise DataFormatError(f"{where}: the answer list {literal[:60]!r} is not a Python list literal such "
                                  f"as ['Paris', 'Paris, France']") from None
        items.append(QAItem(str(len(items)), question.strip(), _answers(value, where, question)))
    return items


def _read_json_list(path: Path) -> list:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{path}:{e.lineno}: invalid JSON ({e.msg}); expected a list of question objects") \
            from None
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of question objects, got {type(data).__name__}")
    return data


def _item(path: Path, i: int, rec: object, ctx_key: str) -> QAItem:
    where = f"{path}: item {i}"
    if not isinstance(rec, dict) or not isinstance(rec.get("question"), str) or "answers" not in rec:
        raise DataFormatError(f"{where}: needs 'question' (string) and 'answers' (list of strings)")
    answers = _answers(rec["answers"], where, rec["question"])
    ctxs = rec.get(ctx_key) or []
    ctx = ctxs[0] if ctxs else {}
    if not isinstance(ctx, dict):
        raise DataFormatError(f"{where}: '{ctx_key}[0]' must be an object with 'title' and 'text'")
    target = rec.get("target")
    return QAItem(str(rec.get("id", i)), rec["question"].strip(), answers,
                  target if isinstance(target, str) else None, str(ctx.get("title", "")), str(ctx.get("text", "")))


def read_fid_json(path: str | Path) -> list[QAItem]:
    """FiD JSON; the demonstration passage is ``ctxs[0]``."""
    path = Path(path)
    return [_item(path, i, rec, "ctxs") for i, rec in enumerate(_read_json_list(path))]


def read_dpr_biencoder(path: str | Path) -> list[QAItem]:
    """DPR retriever JSON; the demonstration passage is ``positive_ctxs[0]``."""
    path = Path(path)
    return [_item(path, i, rec, "positive_ctxs") for i, rec in enumerate(_read_json_list(path))]


def read_questions(path: str | Path) -> list[QAItem]:
    """Any of the three formats, told apart by suffix (``.csv``) or by the passage key of the first record."""
    path = Path(path)
    if path.suffix in (".csv", ".tsv"):
        return read_dpr_qas(path)
    data = _read_json_list(path)
    key = "positive_ctxs" if data and isinstance(data[0], dict) and "positive_ctxs" in data[0] else "ctxs"
    items = [_item(path, i, rec, key) for i, rec in enumerate(data)]
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise DataFormatError(f"{path}: question id {dup!r} appears twice; ids key the stage outputs")
    return items
