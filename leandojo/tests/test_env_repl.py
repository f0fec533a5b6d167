"""The Lean 4 REPL backend against a scripted process speaking the REPL's JSON protocol (tests/fixtures/
fake_repl.py): opening a theorem from its file, tactics, errors, a hang, a dying process, and a whole search."""

import sys
from pathlib import Path

import pytest

from reprover.data import Pos, TheoremRecord
from reprover.env import DojoCrashError, DojoInitError, LeanError, ProofFinished, ProofGivenUp, make_environment
from reprover.env.repl import theorem_text
from reprover.search.best_first import SearchConfig, prove_theorem

FAKE = [sys.executable, str(Path(__file__).parent / "fixtures" / "fake_repl.py")]
SOURCE = """import Mathlib.Tactic

theorem add_zero' (n : Nat) : n + 0 = n := by
  simp

theorem two_steps (a b : Nat) (h : a = b) : b = a := by
  rw [h]
  rfl
"""


def thm(name, start, end, path="Toy/File.lean"):
    return TheoremRecord("u", "c" * 40, path, name, Pos(*start), Pos(*end), ())


ADD_ZERO, TWO_STEPS = thm("add_zero'", (3, 1), (4, 7)), thm("two_steps", (6, 1), (8, 6))


@pytest.fixture()
def repl(tmp_path):
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "File.lean").write_text(SOURCE, encoding="utf-8")
    env = make_environment("repl", command=FAKE, project=tmp_path)
    yield env
    env.close()


def test_a_theorem_is_stated_with_sorry_after_the_text_that_precedes_it():
    prefix, stated = theorem_text(SOURCE, TWO_STEPS)
    assert prefix.startswith("import Mathlib.Tactic") and "add_zero'" in prefix and "two_steps" not in prefix
    assert stated == "theorem two_steps (a b : Nat) (h : a = b) : b = a := by\n  sorry"


def test_the_repl_opens_a_theorem_and_runs_tactics(repl):
    with repl.dojo(TWO_STEPS, timeout=5) as (dojo, init):
        assert init.pp == "a b : Nat\nh : a = b\n⊢ b = a"
        assert isinstance(dojo.run_tac(init, "simp"), LeanError)
        mid = dojo.run_tac(init, "rw [h]")
        assert mid.pp.endswith("⊢ b = b") and mid.id != init.id
        assert isinstance(dojo.run_tac(init, "sorry"), ProofGivenUp)
        assert isinstance(dojo.run_tac(mid, "rfl"), ProofFinished)


def test_best_first_search_proves_through_the_repl(repl):
    class Gen:
        def generate(self, state, file_path, name, pos, n):
            return [("simp", -0.5), ("rw [h]", -1.0), ("rfl", -2.0)]

    for t, proof in ((ADD_ZERO, ["simp"]), (TWO_STEPS, ["rw [h]", "rfl"])):
        r = prove_theorem(t, repl, Gen(), SearchConfig(timeout=30))
        assert r.status == "proved" and r.proof == proof


def test_a_hanging_tactic_restarts_the_repl_and_ends_that_search_as_a_crash(repl):
    with repl.dojo(ADD_ZERO, timeout=0.5) as (dojo, init), pytest.raises(DojoCrashError, match="restarted"):
        dojo.run_tac(init, "hang")
    with repl.dojo(ADD_ZERO, timeout=5) as (dojo, init):  # a fresh process answers again
        assert isinstance(dojo.run_tac(init, "simp"), ProofFinished)


def test_a_dying_repl_is_a_crash_and_an_unelaborable_file_is_discarded(repl, tmp_path):
    with repl.dojo(ADD_ZERO, timeout=5) as (dojo, init), pytest.raises(DojoCrashError, match=r"EOF|exited"):
        dojo.run_tac(init, "die")
    (tmp_path / "Toy" / "Bad.lean").write_text("import Nonexistent\n\n" + SOURCE.split("\n", 2)[2], encoding="utf-8")
    with pytest.raises(DojoInitError, match="Nonexistent"), repl.dojo(thm("add_zero'", (3, 1), (4, 7),
                                                                           "Toy/Bad.lean"), 5):
        pass
    with pytest.raises(DojoInitError, match="not found"), repl.dojo(thm("x", (1, 1), (1, 2), "Toy/None.lean"), 5):
        pass
