"""The fixed-tactic baseline (the paper's ``tidy`` row; ``aesop`` for Lean 4): one tactic, tried once.

As RP's ``FixedTacticGenerator``, every state gets the single suggestion ``{ TACTIC }`` (braces make the tactic
close the goal or fail as a block). RP scores it 1.0; we score it 0.0 so it stays a log-probability. With one
suggestion the score orders nothing, so the search (one expansion of the root) is the same.
"""

from __future__ import annotations

from reprover.data.positions import Pos


class FixedTacticGenerator:
    def __init__(self, tactic: str) -> None:
        self.tactic = tactic.strip()

    def generate(self, state: str, file_path: str, theorem_full_name: str, theorem_pos: Pos,
                 num_samples: int) -> list[tuple[str, float]]:
        return [(f"{{ {self.tactic} }}", 0.0)]
