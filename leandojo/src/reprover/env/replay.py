"""The replay backend: answers the (state, tactic) pairs recorded in a benchmark's traced tactics.

Without Lean we cannot run an arbitrary tactic, but every traced step tells us what Lean answered once:
running ``tactic`` on ``state_before`` gave ``state_after``. Replaying those answers, and a
:class:`LeanError` for anything else, gives a deterministic environment in which search, evaluation and the
demo run anywhere. What it can show: that a search finds a proof made of recorded steps, and that the
bookkeeping around it is right. What it cannot: reward a correct tactic that no human wrote.

Decisions (documented because Lean itself would decide them differently in rare cases):
- Scope: a theorem's session answers only that theorem's recorded steps; a step recorded for another
  theorem is not valid evidence here (hypothesis names and local definitions differ).
- Matching: tactics are compared after removing ``<a>`` marks, trimming, and collapsing whitespace runs to
  one space (released generators may emit marks; spacing never changes a recorded step's meaning here).
- Initial state: the first traced tactic's ``state_before``. Term-mode theorems (no traced tactics) have no
  recorded state, so opening one raises :class:`DojoInitError`: Pass@1 counts them as discarded.
- ``sorry`` / ``admit`` give :class:`ProofGivenUp`, as Lean's final check would.
- Ids grow by one per successful tactic, even for a state seen before; errors allocate none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from reprover.data.records import NO_GOALS, TheoremRecord, remove_marks
from reprover.env.types import (
    DojoInitError,
    LeanError,
    ProofFinished,
    ProofGivenUp,
    TacticResult,
    TacticState,
)

GIVE_UP = {"sorry", "admit"}


def normalize_tactic(tactic: str) -> str:
    """The matching key of a tactic: marks removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", remove_marks(tactic)).strip()


class ReplayDojo:
    """An open theorem in the replay backend."""

    def __init__(self, theorem: TheoremRecord) -> None:
        if not theorem.traced_tactics:
            raise DojoInitError(f"{theorem.full_name} ({theorem.file_path}) has no traced tactics (term-mode "
                                "proof), so the replay environment knows no initial state; it is discarded")
        self.theorem = theorem
        self._answers: dict[tuple[str, str], str] = {}
        for step in theorem.traced_tactics:
            self._answers.setdefault((step.state_before, normalize_tactic(step.tactic)), step.state_after)
        self._next_id = 0
        self.initial_state = self._new_state(theorem.traced_tactics[0].state_before)

    def _new_state(self, pp: str) -> TacticState:
        state = TacticState(pp=pp, id=self._next_id)
        self._next_id += 1
        return state

    def run_tac(self, state: TacticState, tactic: str) -> TacticResult:
        if not isinstance(state, TacticState) or state.id >= self._next_id:
            raise ValueError(f"state {state!r} does not belong to this session")
        key = normalize_tactic(tactic)
        if key in GIVE_UP:
            return ProofGivenUp()
        after = self._answers.get((state.pp, key))
        if after is None:
            return LeanError(f"replay: no recorded answer for tactic {key!r} on this state")
        if after == NO_GOALS:
            result = ProofFinished(tactic_state_id=self._next_id)
            self._next_id += 1
            return result
        return self._new_state(after)


class ReplayEnvironment:
    """Opens :class:`ReplayDojo` sessions. ``timeout`` is accepted for the interface; answers are instant."""

    kind = "replay"

    @contextmanager
    def dojo(self, theorem: TheoremRecord, timeout: float = 600.0) -> Iterator[tuple[ReplayDojo, TacticState]]:
        session = ReplayDojo(theorem)
        yield session, session.initial_state
