"""``--env rewrite``: the toy benchmark's environment, a rewriting kernel that checks any ``rw [NAME]`` tactic.

Unlike the replay backend it does not look answers up: it resolves ``NAME`` among the premises *accessible*
at the theorem (full name, or the unique premise whose name ends in ``.NAME``, as ``open Toy`` would allow),
rewrites the goal with it, and closes the goal when both sides are equal (as Lean's ``rw`` tries ``rfl``).
So a generator is rewarded for any correct proof, not only for the recorded one. Errors: an unknown or
inaccessible name, a premise that is not a rewrite lemma, a rule whose symbol does not occur, any other
tactic. Initial state: the first traced tactic's ``state_before`` (the theorem's statement as a goal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from reprover.data.benchmark import Benchmark
from reprover.data.records import TheoremRecord, remove_marks
from reprover.env.types import DojoInitError, LeanError, ProofFinished, TacticResult, TacticState
from reprover.toy.terms import parse_state, rewrite, rule_of, state

RW = re.compile(r"^rw \[([^\],]+)\]$")


class RewriteDojo:
    def __init__(self, theorem: TheoremRecord, names: dict[str, str], codes: dict[str, str]) -> None:
        if not theorem.traced_tactics:
            raise DojoInitError(f"{theorem.full_name}: no statement recorded")
        self.names, self.codes, self._next = names, codes, 1
        self.initial_state = TacticState(theorem.traced_tactics[0].state_before, 0)

    def run_tac(self, st: TacticState, tactic: str) -> TacticResult:
        m = RW.match(" ".join(remove_marks(tactic).split()))
        if m is None:
            return LeanError(f"the toy kernel only knows `rw [NAME]`, got {tactic!r}")
        full = self.names.get(m.group(1).strip())
        if full is None:
            return LeanError(f"unknown identifier '{m.group(1).strip()}'")
        rule = rule_of(self.codes[full])
        if rule is None:
            return LeanError(f"{full} is not an equation `f y = ...` usable by rw")
        lhs, rhs = parse_state(st.pp)
        new_lhs, new_rhs = rewrite(lhs, rule), rewrite(rhs, rule)
        if new_lhs is None and new_rhs is None:
            return LeanError(f"rw [{full}]: did not find an instance of the pattern {rule[0]} ?y")
        lhs, rhs = new_lhs if new_lhs is not None else lhs, new_rhs if new_rhs is not None else rhs
        self._next += 1
        if lhs == rhs:
            return ProofFinished(self._next)
        return TacticState(state(lhs, rhs), self._next)


class RewriteEnvironment:
    """Opens theorems of a toy benchmark (``data``: its root) with the premises accessible to each."""

    kind = "rewrite"

    def __init__(self, data: str) -> None:
        self.corpus = Benchmark(data).corpus

    def _scope(self, thm: TheoremRecord) -> tuple[dict[str, str], dict[str, str]]:
        names: dict[str, str] = {}
        codes: dict[str, str] = {}
        short: dict[str, list[str]] = {}
        for p in self.corpus.accessible_premises(thm.file_path, thm.start):
            names[p.full_name], codes[p.full_name] = p.full_name, p.code
            short.setdefault(p.full_name.rsplit(".", 1)[-1], []).append(p.full_name)
        for s, fulls in short.items():
            if len(fulls) == 1:
                names.setdefault(s, fulls[0])
        return names, codes

    @contextmanager
    def dojo(self, theorem: TheoremRecord, timeout: float = 600.0) -> Iterator[tuple[RewriteDojo, TacticState]]:
        session = RewriteDojo(theorem, *self._scope(theorem))
        yield session, session.initial_state
