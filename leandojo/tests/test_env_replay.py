import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from reprover.env import (
    DojoCrashError,
    DojoInitError,
    EnvironmentUnavailableError,
    LeanError,
    ProofFinished,
    ProofGivenUp,
    ReplayEnvironment,
    TacticState,
    make_environment,
)
from reprover.env.lean import LeanDojoEnvironment


def _thm(theorems, name):
    return next(t for t in theorems if t.full_name == name)


def test_replay_opens_at_the_first_recorded_state_and_walks_the_recorded_steps(theorems):
    thm = _thm(theorems, "Toy.add_zero_both")
    with ReplayEnvironment().dojo(thm, timeout=5) as (dojo, state):
        assert state.pp == thm.traced_tactics[0].state_before and state.num_goals == 1
        for step in thm.traced_tactics[:-1]:
            state = dojo.run_tac(state, step.tactic)
            assert isinstance(state, TacticState) and state.pp == step.state_after
        assert dojo.run_tac(state, thm.traced_tactics[-1].tactic) == ProofFinished(tactic_state_id=3)


def test_replay_answers_unrecorded_tactics_with_an_error_that_allocates_no_id(theorems):
    thm = _thm(theorems, "Toy.add_zero_both")
    with ReplayEnvironment().dojo(thm) as (dojo, init):
        assert isinstance(dojo.run_tac(init, "simp"), LeanError)
        assert isinstance(dojo.run_tac(init, "exact Nat.add_zero a"), LeanError)  # recorded, other state
        split = dojo.run_tac(init, "constructor")
        assert split.id == 1 and split.num_goals == 2


def test_replay_ids_grow_even_for_a_repeated_state_and_old_states_stay_usable(theorems):
    thm = _thm(theorems, "Toy.double_add")
    with ReplayEnvironment().dojo(thm) as (dojo, init):
        a = dojo.run_tac(init, "simp only [double_def]")
        b = dojo.run_tac(init, "simp only [double_def]")  # backtrack: the initial state is not consumed
        assert a == b and a.id != b.id  # equality is by pp alone, as in lean_dojo
        assert hash(a) == hash(b)


def test_replay_ignores_marks_and_spacing_but_not_the_tactic_text(theorems):
    thm = _thm(theorems, "Toy.double_add")
    with ReplayEnvironment().dojo(thm) as (dojo, init):
        assert isinstance(dojo.run_tac(init, "simp  only [<a>double_def</a>] "), TacticState)
        assert isinstance(dojo.run_tac(init, "simp only [double]"), LeanError)


def test_replay_treats_sorry_as_giving_up(theorems):
    with ReplayEnvironment().dojo(_thm(theorems, "Toy.double_add")) as (dojo, init):
        assert dojo.run_tac(init, "sorry") == ProofGivenUp()


def test_a_term_mode_theorem_cannot_be_opened_in_replay(theorems):
    with pytest.raises(DojoInitError, match="term-mode"), ReplayEnvironment().dojo(_thm(theorems, "Toy.double_def")):
        pass


# --- the lean_dojo backend, driven by a stand-in for the lean_dojo module ----------------------------------


def _fake_lean_dojo(log):
    m = types.ModuleType("fake_lean_dojo")

    @dataclass(frozen=True)
    class TacticState:
        pp: str
        id: int

    @dataclass(frozen=True)
    class ProofFinished:
        tactic_state_id: int

    @dataclass(frozen=True)
    class LeanError:
        error: str

    class ProofGivenUp:
        pass

    class DojoInitError(Exception):
        pass

    class DojoCrashError(Exception):
        pass

    class DojoTacticTimeoutError(Exception):
        pass

    steps = {("⊢ A ∧ B", "constructor"): "⊢ A\n\n⊢ B", ("⊢ A\n\n⊢ B", "exact a"): "⊢ B", ("⊢ B", "exact b"): None}

    class Session:
        def __init__(self):
            self.poisoned, self.next_id = False, 1

        def run_tac(self, state, tactic):
            log.append(tactic)
            if self.poisoned or tactic == "slow":
                self.poisoned = True
                raise DojoTacticTimeoutError("no answer")
            if tactic == "crash":
                raise DojoCrashError("Unexpected EOF")
            if (state.pp, tactic) not in steps:
                return LeanError("unknown tactic")
            after = steps[(state.pp, tactic)]
            self.next_id += 1
            return ProofFinished(self.next_id) if after is None else TacticState(after, self.next_id)

    @contextmanager
    def Dojo(theorem, timeout):
        log.append("open")
        yield Session(), TacticState("⊢ A ∧ B", 0)

    for obj in (TacticState, ProofFinished, LeanError, ProofGivenUp, DojoInitError, DojoCrashError,
                DojoTacticTimeoutError):
        setattr(m, obj.__name__, obj)
    m.Dojo, m.LeanGitRepo, m.Theorem = Dojo, lambda url, commit: (url, commit), lambda *a: a
    return m


def test_the_lean_backend_reopens_after_a_timeout_and_rebuilds_older_states(theorems):
    log = []
    env = LeanDojoEnvironment(module=_fake_lean_dojo(log))
    with env.dojo(_thm(theorems, "Toy.double_add")) as (dojo, init):
        split = dojo.run_tac(init, "constructor")
        assert split.num_goals == 2
        assert isinstance(dojo.run_tac(split, "slow"), LeanError)  # the timeout is an error result...
        assert dojo.restarts == 1 and log.count("open") == 2  # ...and the poisoned session was replaced
        one = dojo.run_tac(split, "exact a")  # `split` came from the old session: rebuilt by replaying its path
        assert one.pp == "⊢ B"
        assert isinstance(dojo.run_tac(one, "exact b"), ProofFinished)
    assert log == ["open", "constructor", "slow", "open", "constructor", "exact a", "exact b"]


def test_the_lean_backend_maps_crashes_and_errors_onto_our_types(theorems):
    env = LeanDojoEnvironment(module=_fake_lean_dojo([]))
    with env.dojo(_thm(theorems, "Toy.double_add")) as (dojo, init):
        assert dojo.run_tac(init, "simp") == LeanError("unknown tactic")
        with pytest.raises(DojoCrashError, match="EOF"):
            dojo.run_tac(init, "crash")


def test_asking_for_lean_without_lean_dojo_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lean_dojo", None)  # makes `import lean_dojo` fail
    with pytest.raises(EnvironmentUnavailableError, match=r"pip install -e '\./leandojo\[lean\]'.*--env replay"):
        make_environment("lean")
