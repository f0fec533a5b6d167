"""From raw generations to what the method keeps: the generated context line and the answer string.

Context (stage 1, as ``tasks/odqa`` does): the first line of the generation that is at least 5 characters
long once stripped; if none, the literal ``No proper answer!`` (which then goes on into stage 2). The stage-1
prompt ends at ``Q: {question}\n``, so the model starts its passage with the demonstrations' ``A:`` label; that
label is removed by the same rule as for answers (leading label by default, substrings when official), so
stage 2 sees ``Context: Berlin is ...`` rather than ``Context: A: Berlin is ...``.

Answer (stage 2): the first line of the generation, with the label the model tends to repeat removed.
Default (``official=False``): ``<|endoftext|>`` deleted, then one *leading* ``Answer:``, ``A:``, ``Ans:`` or
``B:`` label removed, then stripped. ``official=True`` reproduces the official readers, which delete the
substrings ``Answer:``, ``A: ``, ``A:`` (and in the vote reader ``Ans:``, ``B:``) *anywhere* in the line, so
``NBA: Lakers`` becomes ``NBLakers``; use it to match the paper's numbers exactly.
"""

from __future__ import annotations

import re

NO_CONTEXT = "No proper answer!"
EOT = "<|endoftext|>"
_LEADING_LABEL = re.compile(r"^\s*(?:Answer|Ans|A|B)\s*:\s*")
# the official deletion order matters: "Answer:" before "A: " before "A:", then the vote reader's extras
_OFFICIAL_SUBSTRINGS = ("Answer:", "A: ", "A:", "Ans:", "B:")


def first_long_line(text: str, min_chars: int = 5) -> str | None:
    """The first line whose stripped text has at least ``min_chars`` characters, stripped; None if none."""
    for line in text.split("\n"):
        if len(line.strip()) >= min_chars:
            return line.strip()
    return None


def context_line_complete(text: str, min_chars: int = 5) -> bool:
    """True once ``text`` holds a finished (newline-terminated) line of ``min_chars``: generating more tokens
    cannot change :func:`extract_context`, so a backend may stop early."""
    done, _, _ = text.rpartition("\n")
    return first_long_line(done, min_chars) is not None


def extract_context(text: str, min_chars: int = 5, official: bool = False) -> str:
    line = first_long_line(text.replace(EOT, ""), min_chars)
    return NO_CONTEXT if line is None else strip_labels(line, official) or NO_CONTEXT


def first_line(text: str) -> str:
    """The first line after leading whitespace (the model answers right after ``Question: ...\\n``)."""
    return text.replace(EOT, "").lstrip().split("\n", 1)[0]


def answer_line_complete(text: str) -> bool:
    """True once the first non-blank line has ended: the rest of the generation is discarded anyway."""
    return "\n" in text.replace(EOT, "").lstrip()


def clean_answer(raw: str, official: bool = False) -> str:
    """The answer string from one raw stage-2 (or direct) generation; see the module docstring."""
    return strip_labels(first_line(raw), official)


def strip_labels(line: str, official: bool = False) -> str:
    """One leading ``Answer:``/``Ans:``/``A:``/``B:`` label removed, or (official) those substrings anywhere."""
    if official:
        for label in _OFFICIAL_SUBSTRINGS:
            line = line.replace(label, "")
        return line.strip()
    return _LEADING_LABEL.sub("", line, count=1).strip()
