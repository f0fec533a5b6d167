"""The generator's input: retrieved premises prepended to the state within a byte budget.

RP ``format_augmented_state``: walk the retrieved premises in rank order; drop each with probability
``p_drop`` (training only); skip any whose text + "\\n\\n" would overflow the budget ``max_len - len(state)``
(UTF-8 bytes) but keep trying later, shorter ones; *prepend* each accepted one, so the best-ranked
premise ends up right before the state; then append the state. Marks (``<a>``/``</a>``) are removed from
the result, as RP's current generator does in training; ``keep_marks=True`` leaves them in, as RP's
proof-time ``generate`` does (it never calls ``remove_marks`` on the augmented input).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence

from reprover.data.records import MARK_END, MARK_START, remove_marks


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def format_augmented_state(state: str, premise_texts: Sequence[str], max_len: int | None = None,
                           p_drop: float = 0.0, rng: random.Random | None = None, keep_marks: bool = False) -> str:
    """``premise_k + ... + premise_1 + state`` with premise_1 the best-ranked accepted one."""
    if not 0.0 <= p_drop < 1.0:
        raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
    rng = rng or random.Random(0)
    budget = float("inf") if max_len is None else max_len - utf8_len(state)
    used = 0
    prefix = ""
    for text in premise_texts:
        if p_drop > 0.0 and rng.random() < p_drop:
            continue
        piece = f"{text}\n\n"
        n = utf8_len(piece)
        if used + n > budget:
            continue
        used += n
        prefix = piece + prefix
    return prefix + state if keep_marks else remove_marks(prefix + state)


_MARKED = re.compile(re.escape(MARK_START) + r"(.+?)" + re.escape(MARK_END))


def _scramble(part: str, rng: random.Random) -> str:
    """``part`` with every ASCII letter and digit replaced by a random one of its class (``_`` etc. kept)."""
    out = []
    for ch in part:
        if ch.isascii() and ch.islower():
            out.append(rng.choice(string.ascii_lowercase))
        elif ch.isascii() and ch.isupper():
            out.append(rng.choice(string.ascii_uppercase))
        elif ch.isascii() and ch.isdigit():
            out.append(rng.choice(string.digits))
        else:
            out.append(ch)
    return "".join(out)


def rename_input_premises(marked_input: str, target: str, rng: random.Random) -> tuple[str, str]:
    """Give every premise whose name is marked in ``marked_input`` a fresh random last name component,
    consistently in the input and the target; returns both without marks.

    Why (toy demo only, option ``data.rename_premises``): ReProver's generator starts from pretrained
    ByT5, which can already copy a span of its input; a tiny randomly initialised T5 instead memorises
    which name follows which goal, a rule that fails on every premise never used in training. With fresh
    names each time an example is read, the only way to produce the target name is to copy it from the
    premises in the input. Names not in the input (no retrieval, or the premise was not retrieved) are
    left as they are, so the generator without retrieval trains exactly as before.
    """
    names = sorted(set(_MARKED.findall(marked_input)), key=len, reverse=True)
    text, tgt = remove_marks(marked_input), target
    for full in names:
        head, _, last = full.rpartition(".")
        fresh = (head + "." if head else "") + _scramble(last, rng)
        # whole-name matches only: not inside a longer identifier (``Toy.lem_ab`` in ``Toy.lem_abc``)
        pat = re.compile(r"(?<![\w.'])" + re.escape(full) + r"(?![\w'])")
        text, tgt = pat.sub(lambda _m, f=fresh: f, text), pat.sub(lambda _m, f=fresh: f, tgt)
    return text, tgt
