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
from collections.abc import Sequence

from reprover.data.records import remove_marks


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
