"""How a premise is written for the encoder (and for the generator's input): its code with its name marked.

ReProver embeds a premise as its corpus ``code`` with the premise's own name wrapped as ``<a>FULL_NAME</a>``
(RP ``Premise.serialize``), so the encoder sees the fully qualified name even where the source
used a short one (``theorem dvd_mul_right ...`` inside ``namespace Nat``). The rule:

1. if the code contains ``_root_.FULL_NAME``, that text is replaced and nothing else is done;
2. otherwise, for the dotted suffixes of the name, longest first (``Nat.dvd_mul_right``, then
   ``dvd_mul_right``), every occurrence preceded by whitespace, optionally in ``«»`` quotes, is replaced;
   the first suffix that occurs at all is the only one used.

Suffixes are matched literally (RP builds the regex from the raw name, where ``.`` matches any character;
literal matching differs only for names whose dots could match some other character at the same place).
"""

from __future__ import annotations

import re

from reprover.data.records import MARK_END, MARK_START, Premise


def mark_name(code: str, full_name: str) -> str:
    """``code`` with the declaration's own name wrapped in ``<a>...</a>`` as the full name."""
    marked = f"{MARK_START}{full_name}{MARK_END}"
    rooted = f"_root_.{full_name}"
    if rooted in code:
        return code.replace(rooted, marked)
    parts = full_name.split(".")
    for i in range(len(parts)):
        suffix = ".".join(parts[i:])
        pattern = re.compile(r"(?<=\s)«?" + re.escape(suffix) + r"»?")
        new_code = pattern.sub(lambda _m: marked, code)
        if new_code != code:
            return new_code
    return code


def premise_text(premise: Premise) -> str:
    """The string the retriever embeds and the generator prepends for ``premise``."""
    return mark_name(premise.code, premise.full_name)
