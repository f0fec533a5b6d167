"""The real backend: proof states from Lean through the ``lean_dojo`` package (optional extra ``[lean]``).

Wraps ``lean_dojo.Dojo`` behind :class:`~reprover.env.base.Environment` and adds what search needs and
lean_dojo leaves to the caller:

- **Timeouts poison a session.** After ``DojoTacticTimeoutError`` the Lean process stays busy and every
  later tactic on that Dojo times out too (LeanDojo issue #218). So the session is closed and reopened, the
  timed-out tactic becomes a :class:`LeanError` result (an error node for search), and search goes on.
- **States outlive sessions.** Our ``TacticState.id`` is our own; we remember the tactic path that reached
  every state. A state from an earlier session is rebuilt in the current one by replaying that path, once,
  on first use. A replay that no longer succeeds becomes a :class:`LeanError`.
- Older lean_dojo versions return a ``TimeoutError`` *result* (Lean 3 ``try_for``); it is an error result
  too, without a restart, since that session stays healthy.
- ``DojoInitError`` and ``DojoCrashError`` are re-raised as ours (discarded / search ends). Any other
  exception while opening (lean_dojo also fails with git, OS, Ray or assertion errors) discards the theorem
  with that exception as the reason; while reopening after a timeout it ends the search as a crash. A failure
  while closing is logged and ignored.

``dojo_factory`` and ``module`` can be injected, which is how the tests run all of this without Lean.
"""

from __future__ import annotations

import importlib
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from reprover.data.records import TheoremRecord
from reprover.env.types import (
    DojoCrashError,
    DojoInitError,
    EnvironmentUnavailableError,
    LeanError,
    ProofFinished,
    ProofGivenUp,
    TacticResult,
    TacticState,
)

log = logging.getLogger(__name__)
INSTALL_HINT = ("--env lean needs Lean and the lean-dojo package: `pip install -e './leandojo[lean]'` (from the "
                "repository root), install elan (https://github.com/leanprover/elan), and trace the benchmark's "
                "repository once with lean_dojo.trace (≈1 h and ≥32 GB RAM for mathlib4). Without Lean, use "
                "--env replay")


def import_lean_dojo() -> ModuleType:
    """Import lean_dojo and check that a Lean toolchain is reachable, or say exactly what to install."""
    try:
        module = importlib.import_module("lean_dojo")
    except ImportError as err:
        raise EnvironmentUnavailableError(f"the lean_dojo package is not installed ({err}). {INSTALL_HINT}") from None
    if shutil.which("lake") is None and not (Path.home() / ".elan" / "bin" / "lake").exists():
        raise EnvironmentUnavailableError(f"no Lean toolchain (`lake`) on PATH or in ~/.elan/bin. {INSTALL_HINT}")
    return module


class LeanSession:
    """One theorem; owns a chain of lean_dojo Dojo sessions, reopening after a tactic timeout."""

    def __init__(self, open_dojo: Callable[[], AbstractContextManager], module: ModuleType) -> None:
        self._open, self._ld = open_dojo, module
        self._stack = ExitStack()
        self._paths: dict[int, tuple[str, ...]] = {}  # our state id -> tactics from the initial state
        self._native: dict[int, Any] = {}  # our state id -> lean_dojo state in the *current* session
        self.restarts = 0
        self.initial_state = self._start()

    def _start(self) -> TacticState:
        self._stack.close()
        self._stack = ExitStack()
        self._native.clear()
        first = not self._paths
        try:
            _dojo, init = self._stack.enter_context(self._open())
        except getattr(self._ld, "DojoInitError", ()) as err:
            raise DojoInitError(str(err)) from err
        except Exception as err:  # lean_dojo also fails with git, OS, Ray and assertion errors
            if first:  # the theorem cannot be opened: discarded, with the reason
                raise DojoInitError(f"{type(err).__name__}: {err}") from err
            raise DojoCrashError(f"reopening after a timeout failed: {type(err).__name__}: {err}") from err
        self._dojo = _dojo
        self._native[0] = init
        self._paths.setdefault(0, ())
        return TacticState(pp=init.pp, id=0)

    def close(self) -> None:
        """Leave the Dojo; a failure to shut Lean down is logged, never allowed to lose a finished search."""
        try:
            self._stack.close()
        except Exception as err:
            log.warning("closing the Lean session failed (%s: %s); ignored", type(err).__name__, err)

    def run_tac(self, state: TacticState, tactic: str) -> TacticResult:
        native = self._native.get(state.id) or self._rebuild(state.id)
        if isinstance(native, LeanError):
            return native
        result = self._call(native, tactic)
        if isinstance(result, self._ld.TacticState):
            new_id = len(self._paths)
            self._paths[new_id] = (*self._paths[state.id], tactic)
            self._native[new_id] = result
            return TacticState(pp=result.pp, id=new_id, message=getattr(result, "message", None))
        return result

    def _call(self, native: Any, tactic: str) -> Any:
        """Run one tactic; map lean_dojo's results and exceptions onto ours (TacticState passes through)."""
        ld = self._ld
        timeout_error = getattr(ld, "DojoTacticTimeoutError", None) or ld.DojoHardTimeoutError
        try:
            result = self._dojo.run_tac(native, tactic)
        except timeout_error as err:
            log.warning("tactic %r timed out (%s); reopening the Lean session", tactic, err)
            self.restarts += 1
            self._start()
            return LeanError(f"timeout: {err}")
        except ld.DojoCrashError as err:
            raise DojoCrashError(str(err)) from err
        if isinstance(result, ld.TacticState):
            return result
        if isinstance(result, ld.ProofFinished):
            return ProofFinished(result.tactic_state_id, getattr(result, "message", None))
        if isinstance(result, ld.ProofGivenUp):
            return ProofGivenUp()
        if isinstance(result, ld.LeanError):
            return LeanError(result.error)
        return LeanError(f"{type(result).__name__}: {getattr(result, 'error', result)}")  # legacy TimeoutError

    def _rebuild(self, state_id: int) -> Any:
        """Replay the tactic path of a state created in an earlier session (after a restart)."""
        native = self._native[0]
        for done, tactic in enumerate(self._paths[state_id]):
            result = self._call(native, tactic)
            if not isinstance(result, self._ld.TacticState):
                return LeanError(f"could not rebuild the state after a restart: step {done} ({tactic!r}) gave "
                                 f"{result!r}")
            native = result
        self._native[state_id] = native
        return native


class LeanDojoEnvironment:
    """Opens theorems in real Lean through lean_dojo; needs the repository traced beforehand."""

    kind = "lean"

    def __init__(self, dojo_factory: Callable[..., AbstractContextManager] | None = None,
                 module: ModuleType | None = None) -> None:
        self._ld = module if module is not None else import_lean_dojo()
        self._factory = dojo_factory or self._ld.Dojo

    def _target(self, thm: TheoremRecord) -> Any:
        repo = self._ld.LeanGitRepo(thm.url, thm.commit)
        return self._ld.Theorem(repo, thm.file_path, thm.full_name)

    @contextmanager
    def dojo(self, theorem: TheoremRecord, timeout: float = 600.0) -> Iterator[tuple[LeanSession, TacticState]]:
        target = self._target(theorem)
        session = LeanSession(lambda: self._factory(target, timeout=int(timeout)), self._ld)
        try:
            yield session, session.initial_state
        finally:
            session.close()
