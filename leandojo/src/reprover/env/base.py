"""The environment interface search is written against: open a theorem, get its first state, run tactics.

``Environment.dojo(theorem, timeout)`` plays the role of ``lean_dojo.Dojo(theorem, timeout)``: a context
manager yielding ``(dojo, initial_state)``; ``dojo.run_tac(state, tactic)`` returns a
:data:`~reprover.env.types.TacticResult`. Environments are factories so that every theorem gets a fresh
session and a parallel worker can build its own from a picklable description.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from reprover.data.records import TheoremRecord
from reprover.env.types import TacticResult, TacticState


class Dojo(Protocol):
    """One open theorem. A failed tactic leaves ``state`` usable, so search may backtrack to any state."""

    def run_tac(self, state: TacticState, tactic: str) -> TacticResult: ...


class Environment(Protocol):
    """Opens theorems. ``timeout`` is seconds per tactic (and for opening), as in lean_dojo's ``Dojo``."""

    def dojo(self, theorem: TheoremRecord, timeout: float) -> AbstractContextManager[tuple[Dojo, TacticState]]:
        """Raises :class:`~reprover.env.types.DojoInitError` if the theorem cannot be opened."""
        ...
