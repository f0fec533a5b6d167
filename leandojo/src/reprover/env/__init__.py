"""Proof environments behind one interface (lean_dojo's ``Dojo``/``run_tac``): replay and real Lean."""

from reprover.env.base import Dojo, Environment
from reprover.env.replay import ReplayDojo, ReplayEnvironment, normalize_tactic
from reprover.env.types import (
    DojoCrashError,
    DojoError,
    DojoInitError,
    DojoTacticTimeoutError,
    EnvironmentUnavailableError,
    LeanError,
    ProofFinished,
    ProofGivenUp,
    TacticResult,
    TacticState,
)


def make_environment(kind: str, **options) -> Environment:
    """``"replay"``, ``"lean"`` (lean_dojo) or ``"repl"`` (the Lean 4 REPL); Lean backends raise
    EnvironmentUnavailableError saying what to install. ``options`` go to the backend's constructor."""
    if kind == "replay":
        return ReplayEnvironment()
    if kind == "lean":
        from reprover.env.lean import LeanDojoEnvironment

        return LeanDojoEnvironment()
    if kind == "repl":
        from reprover.env.repl import ReplEnvironment

        return ReplEnvironment(**options)
    if kind == "rewrite":
        from reprover.toy.kernel import RewriteEnvironment

        return RewriteEnvironment(**options)
    raise ValueError(f"unknown environment {kind!r}; use 'replay', 'lean', 'repl' or 'rewrite'")


__all__ = ["Dojo", "DojoCrashError", "DojoError", "DojoInitError", "DojoTacticTimeoutError", "Environment",
           "EnvironmentUnavailableError", "LeanError", "ProofFinished", "ProofGivenUp", "ReplayDojo",
           "ReplayEnvironment", "TacticResult", "TacticState", "make_environment", "normalize_tactic"]
