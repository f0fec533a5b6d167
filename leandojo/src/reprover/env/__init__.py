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


def make_environment(kind: str) -> Environment:
    """``"replay"`` or ``"lean"``; the latter raises EnvironmentUnavailableError saying what to install."""
    if kind == "replay":
        return ReplayEnvironment()
    if kind == "lean":
        from reprover.env.lean import LeanDojoEnvironment

        return LeanDojoEnvironment()
    raise ValueError(f"unknown environment {kind!r}; use 'replay' or 'lean'")


__all__ = ["Dojo", "DojoCrashError", "DojoError", "DojoInitError", "DojoTacticTimeoutError", "Environment",
           "EnvironmentUnavailableError", "LeanError", "ProofFinished", "ProofGivenUp", "ReplayDojo",
           "ReplayEnvironment", "TacticResult", "TacticState", "make_environment", "normalize_tactic"]
