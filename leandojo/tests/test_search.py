"""Best-first search against a scripted environment and generator (no benchmark, no Lean)."""

from contextlib import contextmanager

import pytest

from reprover.data import Pos, TheoremRecord
from reprover.env import DojoCrashError, LeanError, ProofFinished, ProofGivenUp, TacticState
from reprover.search.best_first import SearchConfig, prove_theorem
from reprover.search.result import SearchResult, pass_at_1

THM = TheoremRecord("u", "c" * 40, "F.lean", "T.thm", Pos(1, 1), Pos(3, 1), ())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ScriptedEnv:
    """``script[pp][tactic]`` is the next pp, or "DONE", "ERR", "SORRY", "CRASH"; ``cost`` advances the clock."""

    def __init__(self, script, clock=None, cost=0.0):
        self.script, self.clock, self.cost, self.calls = script, clock, cost, []

    @contextmanager
    def dojo(self, theorem, timeout):
        yield self, TacticState("⊢ root", 0)

    def run_tac(self, state, tactic):
        self.calls.append((state.pp, tactic))
        if self.clock is not None:
            self.clock.now += self.cost
        out = self.script.get(state.pp, {}).get(tactic, "ERR")
        if out == "CRASH":
            raise DojoCrashError("Unexpected EOF")
        return {"DONE": ProofFinished(len(self.calls)), "ERR": LeanError("no"), "SORRY": ProofGivenUp()}.get(
            out) or TacticState(out, len(self.calls))


class ScriptedGenerator:
    def __init__(self, suggestions):
        self.suggestions, self.expanded = suggestions, []

    def generate(self, state, file_path, theorem_full_name, theorem_pos, num_samples):
        self.expanded.append(state)
        return self.suggestions.get(state, [])[:num_samples]


def _search(script, suggestions, clock=None, cost=0.0, **cfg):
    env, gen = ScriptedEnv(script, clock, cost), ScriptedGenerator(suggestions)
    kwargs = {"clock": clock} if clock is not None else {}
    return prove_theorem(THM, env, gen, SearchConfig(**cfg), **kwargs), env, gen


def test_states_are_expanded_in_order_of_cumulative_log_probability():
    script = {"⊢ root": {"a": "⊢ A", "b": "⊢ B"}, "⊢ A": {"a2": "⊢ AA"}, "⊢ B": {"b2": "⊢ BB"}}
    # A: -1, B: -2, AA: -1 - 3 = -4, BB: -2 - 0.5 = -2.5  ->  root, A, B, BB, AA
    sugg = {"⊢ root": [("b", -2.0), ("a", -1.0)], "⊢ A": [("a2", -3.0)], "⊢ B": [("b2", -0.5)]}
    result, env, gen = _search(script, sugg)
    assert gen.expanded == ["⊢ root", "⊢ A", "⊢ B", "⊢ BB", "⊢ AA"]
    assert env.calls[:2] == [("⊢ root", "a"), ("⊢ root", "b")]  # tactics run best first
    assert result.status == "failed" and result.stop_reason == "exhausted"


def test_identical_states_are_merged_and_expanded_once():
    script = {"⊢ root": {"a": "⊢ S", "b": "⊢ S"}, "⊢ S": {"x": "⊢ T"}}
    result, _, gen = _search(script, {"⊢ root": [("a", -1.0), ("b", -0.1)], "⊢ S": [("x", -1.0)]})
    assert gen.expanded.count("⊢ S") == 1
    assert result.num_total_nodes == 3  # root, S, T


def test_errors_become_failed_nodes_and_an_all_failed_root_fails_the_search():
    script = {"⊢ root": {"a": "ERR", "b": "SORRY", "c": "⊢ root"}}  # c: no progress
    result, env, _ = _search(script, {"⊢ root": [("a", -1.0), ("b", -1.0), ("c", -1.0)]})
    assert result.status == "failed" and result.proof is None and len(env.calls) == 3


def test_the_proof_is_the_shortest_path_and_later_tactics_are_not_tried():
    script = {"⊢ root": {"long": "⊢ L", "short": "⊢ S"}, "⊢ L": {"l": "⊢ S"}, "⊢ S": {"done": "DONE", "alt": "⊢ Z"}}
    sugg = {"⊢ root": [("long", -0.1), ("short", -0.2)], "⊢ L": [("l", -0.1)], "⊢ S": [("done", -1), ("alt", -2)]}
    result, env, _ = _search(script, sugg)
    assert result.status == "proved" and result.proof == ["short", "done"]
    assert ("⊢ S", "alt") not in env.calls


def test_duplicate_suggestions_run_once():
    result, env, _ = _search({"⊢ root": {"a": "DONE"}}, {"⊢ root": [("a", -1.0), ("a", -2.0)]})
    assert result.status == "proved" and env.calls == [("⊢ root", "a")]


def test_a_tactic_leading_back_to_an_ancestor_does_not_loop_or_fail_the_ancestor():
    script = {"⊢ root": {"a": "⊢ A"}, "⊢ A": {"back": "⊢ root", "err": "ERR"}}
    result, _, gen = _search(script, {"⊢ root": [("a", -1.0)], "⊢ A": [("back", -1.0), ("err", -1.0)]})
    assert gen.expanded == ["⊢ root", "⊢ A"] and result.status == "failed"


def test_the_expansion_cap_stops_the_search_but_a_proof_in_the_last_expansion_counts():
    chain = {"⊢ root": {"t": "⊢ 1"}, "⊢ 1": {"t": "⊢ 2"}, "⊢ 2": {"t": "DONE"}}
    sugg = {s: [("t", -1.0)] for s in chain}
    stopped, _, _ = _search(chain, sugg, max_expansions=2)
    assert stopped.status == "open" and stopped.stop_reason == "max_expansions" and stopped.num_expansions == 2
    proved, _, _ = _search(chain, sugg, max_expansions=3)
    assert proved.status == "proved" and proved.num_expansions == 3


def test_a_proof_completed_after_the_time_limit_does_not_count():
    chain = {"⊢ root": {"t": "⊢ 1"}, "⊢ 1": {"t": "DONE"}}
    sugg = {s: [("t", -1.0)] for s in chain}
    late, _, _ = _search(chain, sugg, clock=Clock(), cost=6.0, timeout=10.0)  # second answer at t = 12 s
    assert late.status == "open" and late.stop_reason == "timeout" and late.proof is None
    in_time, _, _ = _search(chain, sugg, clock=Clock(), cost=4.0, timeout=10.0)
    assert in_time.status == "proved"


def test_a_crash_ends_the_search_as_unproved_with_the_error():
    result, _, _ = _search({"⊢ root": {"a": "CRASH", "b": "DONE"}}, {"⊢ root": [("a", -1.0), ("b", -2.0)]})
    assert result.status == "open" and result.stop_reason == "crash" and "EOF" in result.error


def test_pass_at_1_leaves_discarded_theorems_out_of_the_denominator():
    rs = [SearchResult("f", str(i), s) for i, s in enumerate(["proved", "failed", "discarded", "open"])]
    assert pass_at_1(rs) == (pytest.approx(1 / 3), 1, 3)
    assert pass_at_1([SearchResult("f", "x", "discarded")]) == (None, 0, 0)


def test_search_limits_are_validated():
    with pytest.raises(ValueError):
        SearchConfig(timeout=0)
    with pytest.raises(ValueError):
        SearchConfig(max_expansions=0)
