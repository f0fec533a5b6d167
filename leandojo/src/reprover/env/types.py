"""Result and exception types of a proof environment, mirroring ``lean_dojo.interaction.dojo``.

Search code only sees these, whichever backend (replay or real Lean) answers. As in lean_dojo, a
``TacticState`` compares and hashes by its pretty-printed goals ``pp`` alone, never by ``id``: that is what
lets search merge a state reached along two different paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reprover.data.records import NO_GOALS


@dataclass(frozen=True)
class TacticState:
    """An open proof state: ``pp`` is the goals text, ``id`` the backend's handle for running tactics on it."""

    pp: str
    id: int = field(compare=False)
    message: str | None = field(default=None, compare=False)

    @property
    def num_goals(self) -> int:
        """Goal count = number of ``⊢`` (every Lean 4 goal has exactly one)."""
        return self.pp.count("⊢")


@dataclass(frozen=True)
class ProofFinished:
    """All goals closed and the proof accepted (in Lean: kernel-checked, no ``sorry``)."""

    tactic_state_id: int
    message: str | None = None


@dataclass(frozen=True)
class LeanError:
    """The tactic failed: parse or elaboration error text. The state it ran on stays usable."""

    error: str


@dataclass(frozen=True)
class ProofGivenUp:
    """The proof closed only through ``sorry``/``admit``; it does not count."""


TacticResult = TacticState | ProofFinished | LeanError | ProofGivenUp


class DojoError(Exception):
    """Base class of environment failures (not tactic failures, which are :class:`LeanError` results)."""


class DojoInitError(DojoError):
    """The theorem could not be opened; Pass@1 treats it as discarded, not failed."""


class DojoCrashError(DojoError):
    """The backend died (EOF, invalid output, out of memory); the search ends with its current status."""


class DojoTacticTimeoutError(DojoError):
    """A tactic did not answer within the timeout; the session must be recreated (LeanDojo issue #218)."""


class EnvironmentUnavailableError(RuntimeError):
    """A backend was requested whose requirements (Lean, lean-dojo, a traced repo) are missing."""


__all__ = ["NO_GOALS", "DojoCrashError", "DojoError", "DojoInitError", "DojoTacticTimeoutError",
           "EnvironmentUnavailableError", "LeanError", "ProofFinished", "ProofGivenUp", "TacticResult",
           "TacticState"]
