"""The oracle generator: proposes the human tactics recorded for a state (the replay env's natural partner).

With the replay environment it must prove every theorem that has traced tactics; that is the end-to-end check
of environment, search and bookkeeping (issue "Must show"). Suggestions are scoped to the theorem being
proved, in recorded order, each with log-probability 0.0 (so search order falls back to FIFO).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from reprover.data.positions import Pos
from reprover.data.records import TheoremRecord


class OracleGenerator:
    """Looks up (file_path, full_name, state) in the traced tactics of the given theorems."""

    def __init__(self, theorems: Iterable[TheoremRecord]) -> None:
        self._tactics: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for thm in theorems:
            for step in thm.traced_tactics:
                known = self._tactics[(thm.file_path, thm.full_name, step.state_before)]
                if step.tactic not in known:
                    known.append(step.tactic)

    def generate(self, state: str, file_path: str, theorem_full_name: str, theorem_pos: Pos,
                 num_samples: int) -> list[tuple[str, float]]:
        found = self._tactics.get((file_path, theorem_full_name, state), [])
        return [(t, 0.0) for t in found[:num_samples]]
