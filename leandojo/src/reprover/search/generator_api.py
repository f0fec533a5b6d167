"""The interface every tactic generator implements, so proof search never depends on a model class.

Implementations: :class:`reprover.search.oracle.OracleGenerator` (recorded human tactics), the fixed-tactic
baseline, any ``ninerepro.lm`` backend (:mod:`reprover.search.lm_generator`) and the ReProver
seq2seq generator in :mod:`reprover.generation`, loaded from a checkpoint through
``reprover.generation.load_generator(ckpt, retriever_ckpt=None, **kwargs)``. ``theorem_pos`` is there for
retrieval: premises are filtered by what is accessible at the theorem's start.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from reprover.data.positions import Pos


@runtime_checkable
class TacticGenerator(Protocol):
    """Proposes tactics for one proof state, best first."""

    def generate(self, state: str, file_path: str, theorem_full_name: str, theorem_pos: Pos,
                 num_samples: int) -> list[tuple[str, float]]:
        """Up to ``num_samples`` distinct (tactic, log-probability) pairs for the goals ``state``.

        ``state`` is the pretty-printed goal string (``TacticState.pp``). Scores are log-probabilities
        (<= 0); search adds them along a path, so they must be comparable across calls. Tactics must be
        plain Lean text: no ``<a>``/``</a>`` marks.
        """
        ...


def dedupe(candidates: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Keep the first copy of each tactic (the best-scoring one); drop empty ones; best first."""
    seen: set[str] = set()
    out: list[tuple[str, float]] = []
    for tactic, score in sorted(candidates, key=lambda c: -c[1]):
        if tactic and tactic not in seen:
            seen.add(tactic)
            out.append((tactic, float(score)))
    return out
