"""Wizard of Wikipedia / Wizard of Internet readers and MSDP's preprocessing to Megatron's TSV.

The official preprocessing (NVIDIA/Megatron-LM ``tasks/msdp/preprocessing.py``) writes one line per wizard
turn that can be a target: ``topic \\t turns joined by " [SEP] " \\t knowledge \\t response``, plus two
reference files (the gold knowledge, and the response NLTK-tokenised). Rules kept here:

- **WoW** (a JSON list of ``{chosen_topic, dialog: [{speaker, text, checked_sentence, checked_passage}]}``):
  every turn lacking final ``? . !`` gets a ``"."``; the first turn is never a target; a wizard turn's
  knowledge is its one ``checked_sentence`` value (else ``no_passages_used``) and its topic the single
  ``checked_passage`` value when there is exactly one and it is not ``no_passages_used``, else
  ``chosen_topic``. Speakers are told apart by ``"wizard"``/``"apprentice"`` inside the lower-cased name.
- **WoI** (JSONL, each line ``{id: {dialog_history: [{action, text, context: {contents,
  selected_contents}}]}}``): the topic is the latest ``Wizard => SearchAgent`` query; the knowledge is the first
  selected sentence of the *last* search result that has a selection (the inner loop breaks, the outer does
  not); a wizard turn with no selected sentence is not written but stays in the history; tabs and newlines are
  removed from every field.

Readers are strict: a field of the wrong type or a dialogue without turns is a :class:`DataFormatError`
naming the file, the dialogue and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ninerepro.atomic import atomic_write_text
from ninerepro.data.filelists import DataFormatError, numbered_lines

__all__ = [
    "NO_KNOWLEDGE",
    "SEP",
    "DataFormatError",
    "Sample",
    "process_woi",
    "process_wow",
    "read_samples",
    "read_tsv",
    "read_woi",
    "read_wow",
    "write_prepared",
    "write_tsv",
]

SEP = " [SEP] "
NO_KNOWLEDGE = "no_passages_used"


@dataclass(frozen=True)
class Sample:
    """One Megatron TSV row: the dialogue so far, the gold knowledge and the gold wizard response."""

    topic: str
    turns: tuple[str, ...]
    knowledge: str
    response: str

    @property
    def last_turn(self) -> str:
        return self.turns[-1] if self.turns else ""

    @property
    def key(self) -> str:
        """The official stage-1 prompt key ``topic + " " + last turn``."""
        return f"{self.topic} {self.last_turn}"

    def tsv_line(self) -> str:
        return "\t".join([self.topic, SEP.join(self.turns), self.knowledge, self.response])


def _load_json(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise DataFormatError(f"{where}: {what}")


def read_wow(path: str | Path) -> list[dict]:
    """A WoW split file, checked field by field (the dialogues are returned as read)."""
    path = Path(path)
    data = _load_json(path)
    _need(isinstance(data, list), str(path), f"expected a JSON list of dialogues (Wizard of Wikipedia format), "
                                             f"got {type(data).__name__}")
    for i, d in enumerate(data):
        where = f"{path}: dialogue {i}"
        _need(isinstance(d, dict), where, f"must be an object, got {type(d).__name__}")
        _need(isinstance(d.get("chosen_topic"), str), where, "'chosen_topic' must be a string")
        _need(isinstance(d.get("dialog"), list), where, "'dialog' must be a list of turns")
        _need(len(d["dialog"]) > 0, where, "'dialog' is empty; a dialogue needs at least one turn")
        for j, t in enumerate(d["dialog"]):
            w = f"{where}, turn {j}"
            _need(isinstance(t, dict), w, "must be an object with 'speaker' and 'text'")
            _need(isinstance(t.get("speaker"), str), w, "'speaker' must be a string")
            _need(isinstance(t.get("text"), str), w, "'text' must be a string")
            speaker = t["speaker"].lower()
            _need("wizard" in speaker or "apprentice" in speaker, w,
                  f"'speaker' {t['speaker']!r} names neither a wizard nor an apprentice")
            if "wizard" in speaker and j > 0:
                for key in ("checked_sentence", "checked_passage"):
                    _need(isinstance(t.get(key), dict), w, f"'{key}' must be an object (title -> text), got "
                                                           f"{type(t.get(key)).__name__}")
                _need(len(t["checked_sentence"]) <= 1, w, "'checked_sentence' holds more than one sentence")
    return data


def _end_punct(text: str) -> str:
    return text if text.endswith(("?", ".", "!")) else text + "."


def process_wow(dialogues: Iterable[dict]) -> list[Sample]:
    """The official ``process_wow_dataset`` on dialogues from :func:`read_wow`."""
    out = []
    for d in dialogues:
        turns: list[str] = []
        for j, turn in enumerate(d["dialog"]):
            text = _end_punct(turn["text"])
            if j == 0:
                turns.append(text)
                continue
            if "wizard" in turn["speaker"].lower():
                sentences = list(turn["checked_sentence"].values())
                passages = list(turn["checked_passage"].values())
                knowledge = sentences[0] if sentences else NO_KNOWLEDGE
                passage = passages[0] if len(passages) == 1 else NO_KNOWLEDGE
                topic = passage if passage != NO_KNOWLEDGE else d["chosen_topic"]
                out.append(Sample(topic, tuple(turns), knowledge, text))
            turns.append(text)
    return out


def read_woi(path: str | Path) -> list[dict]:
    """A WoI JSONL file: one ``{id: dialogue}`` object per line, checked; returns the dialogues."""
    path = Path(path)
    dialogues = []
    for number, line in numbered_lines(path):
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataFormatError(f"{where}: invalid JSON ({e.msg}); expected one {{id: dialogue}} per line") from None
        _need(isinstance(obj, dict) and len(obj) == 1, where, "expected an object with exactly one dialogue id")
        d = next(iter(obj.values()))
        _need(isinstance(d, dict) and isinstance(d.get("dialog_history"), list), where,
              "'dialog_history' must be a list of turns")
        _need(len(d["dialog_history"]) > 0, where, "'dialog_history' is empty")
        for j, t in enumerate(d["dialog_history"]):
            w = f"{where}, turn {j}"
            _need(isinstance(t, dict) and isinstance(t.get("action"), str) and isinstance(t.get("text"), str),
                  w, "each turn needs 'action' and 'text' strings")
            if t["action"] == "Wizard => Apprentice":
                ctx = t.get("context")
                _need(isinstance(ctx, dict) and isinstance(ctx.get("contents"), list)
                      and isinstance(ctx.get("selected_contents"), list) and len(ctx["selected_contents"]) >= 1,
                      w, "a wizard turn needs 'context': {'contents': [...], 'selected_contents': [[flag], ...]}")
                _need(len(ctx["selected_contents"]) - 1 == len(ctx["contents"]), w,
                      f"'selected_contents' has {len(ctx['selected_contents']) - 1} result rows after the flag row "
                      f"but 'contents' has {len(ctx['contents'])} results")
        dialogues.append(d)
    return dialogues


def _clean(text: str) -> str:
    return text.replace("\n", "").replace("\r", "").replace("\t", "")


def _woi_knowledge(ctx: dict) -> str:
    selects = ctx["selected_contents"]
    if selects[0] and selects[0][0]:  # "no knowledge used" flag
        return ""
    found = ""
    for content, select in zip(ctx["contents"], selects[1:]):
        for sentence, chosen in zip(content["content"], select):
            if chosen:
                found = sentence
                break
    return found


def process_woi(dialogues: Iterable[dict]) -> list[Sample]:
    """The official ``process_woi_dataset`` on dialogues from :func:`read_woi`."""
    out = []
    for d in dialogues:
        turns: list[str] = []
        query = ""
        for t in d["dialog_history"]:
            action = t["action"]
            if action == "Wizard => SearchAgent":
                query = t["text"]
            elif action == "Wizard => Apprentice":
                if not turns:
                    turns.append(t["text"])
                    continue
                knowledge = _woi_knowledge(t["context"])
                response = _clean(t["text"])
                if knowledge:
                    out.append(Sample(_clean(query), tuple(_clean(x) for x in turns), _clean(knowledge), response))
                turns.append(response)
            elif action == "Apprentice => Wizard":
                turns.append(t["text"])
    return out


def write_tsv(path: str | Path, samples: Sequence[Sample]) -> Path:
    return atomic_write_text(path, "".join(s.tsv_line() + "\n" for s in samples))


def read_tsv(path: str | Path) -> list[Sample]:
    """A Megatron MSDP TSV (4 tab-separated fields per line)."""
    out = []
    for number, line in numbered_lines(path):
        fields = line.split("\t")
        if len(fields) != 4:
            raise DataFormatError(f"{path}:{number}: expected 4 tab-separated fields (topic, turns, knowledge, "
                                  f"response), got {len(fields)}")
        topic, turns, knowledge, response = fields
        out.append(Sample(topic, tuple(turns.split(SEP)) if turns else (), knowledge, response))
    return out


def write_prepared(samples: Sequence[Sample], out_dir: str | Path, name: str) -> dict[str, Path]:
    """``<name>.tsv``, ``<name>_knowledge_reference.txt`` and ``<name>_response_reference.txt`` (tokenised)."""
    from knowledge_dialogue.tokens import tokenized

    out = Path(out_dir)
    return {"tsv": write_tsv(out / f"{name}.tsv", samples),
            "knowledge_ref": atomic_write_text(out / f"{name}_knowledge_reference.txt",
                                               "".join(s.knowledge + "\n" for s in samples)),
            "response_ref": atomic_write_text(out / f"{name}_response_reference.txt",
                                              "".join(tokenized(s.response) + "\n" for s in samples))}


def read_samples(path: str | Path) -> list[Sample]:
    """Any input the CLI accepts: a prepared ``.tsv``, a WoW ``.json`` or a WoI ``.jsonl``."""
    path = Path(path)
    if path.suffix == ".tsv":
        return read_tsv(path)
    if path.suffix == ".jsonl":
        return process_woi(read_woi(path))
    return process_wow(read_wow(path))
