"""A Lean 4 backend over the REPL (leanprover-community/repl), for users with Lean but without LeanDojo's tracing.

The REPL reads JSON commands separated by blank lines on stdin and answers each with one JSON object followed
by a blank line:

- ``{"cmd": TEXT}`` or ``{"cmd": TEXT, "env": E}`` elaborates Lean text (in environment ``E``) and answers
  ``{"env": E2, "messages": [...], "sorries": [{"proofState": P, "goal": ...}, ...]}``;
- ``{"tactic": TAC, "proofState": P}`` runs a tactic and answers ``{"proofState": P2, "goals": [...]}``
  (``goals == []``: the proof is finished), with ``messages`` of severity "error" when the tactic failed, or
  ``{"message": TEXT}`` when the request itself was refused.

Opening a theorem: the file's text before the theorem's ``start`` (its imports and earlier declarations) is
sent as one command, then the theorem's own text with its proof replaced by ``by sorry`` in that environment;
the sorry's proof state is the initial state. The file is read from ``project/<file_path>``; the REPL runs in
``project`` (so ``lake env`` finds its packages). A file prefix is elaborated once and reused for the next
theorem of the same file if it starts later (REPL environments are immutable, so reusing one is safe).

Decisions: a tactic containing ``sorry``/``admit`` gives :class:`ProofGivenUp`; a tactic with no answer
within the tactic timeout kills and restarts the REPL process and ends that theorem's search as a crash (the
REPL's proof states do not survive a restart; unlike :mod:`reprover.env.lean` we do not replay paths here).
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
DEFAULT_COMMAND = "lake env ../repl/.lake/build/bin/repl"
GIVE_UP = re.compile(r"\b(sorry|admit)\b")


class ReplTimeout(Exception):
    pass


class ReplProcess:
    """One REPL process: send a JSON request, read the JSON answer (with a timeout)."""

    def __init__(self, command: list[str], cwd: str | None) -> None:
        try:
            self.proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1)
        except OSError as err:
            raise EnvironmentUnavailableError(f"--env repl: cannot start {shlex.join(command)!r} ({err}); build "
                                              "leanprover-community/repl and pass --repl-command") from None
        self._buffer = ""

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc.poll() is not None:
            raise DojoCrashError(f"the REPL process exited with code {self.proc.returncode}")
        try:
            self.proc.stdin.write(json.dumps(payload, ensure_ascii=False) + "\n\n")
            self.proc.stdin.flush()
        except BrokenPipeError as err:
            raise DojoCrashError(f"the REPL process closed its input ({err})") from None
        return self._read(timeout)

    def _read(self, timeout: float) -> dict[str, Any]:
        fd = self.proc.stdout.fileno()
        while "\n\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise ReplTimeout(f"no answer within {timeout:g} s")
            chunk = os.read(fd, 1 << 16).decode("utf-8", errors="replace")
            if not chunk:
                raise DojoCrashError("unexpected EOF from the REPL process")
            self._buffer += chunk
        text, self._buffer = self._buffer.split("\n\n", 1)
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise DojoCrashError(f"the REPL answered something that is not JSON ({err}): {text[:200]!r}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def errors_of(answer: dict[str, Any]) -> list[str]:
    return [m.get("data", "") for m in answer.get("messages", []) if m.get("severity") == "error"]


def theorem_text(source: str, thm: TheoremRecord) -> tuple[str, str]:
    """(file text before the theorem, the theorem with its proof replaced by ``by sorry``)."""
    lines = source.splitlines(keepends=True)
    (l0, c0), (l1, c1) = thm.start, thm.end
    if l1 > len(lines):
        raise DojoInitError(f"{thm.file_path} has {len(lines)} lines, but {thm.full_name} ends at line {l1}; is "
                            "--repl-project the repository at the benchmark's commit?")
    prefix = "".join(lines[:l0 - 1]) + lines[l0 - 1][:c0 - 1]
    decl = (lines[l0 - 1][c0 - 1:] + "".join(lines[l0:l1])) if l1 > l0 else lines[l0 - 1][c0 - 1:c1]
    head, sep, _proof = decl.partition(":=")
    if not sep:
        raise DojoInitError(f"{thm.full_name}: no ':=' in its declaration text, cannot state it with `by sorry`")
    return prefix, f"{head.rstrip()} := by\n  sorry"


class ReplSession:
    """One open theorem: proof states are REPL ``proofState`` numbers."""

    def __init__(self, env: ReplEnvironment, init: TacticState, timeout: float) -> None:
        self.env, self.initial_state, self.timeout = env, init, timeout

    def run_tac(self, state: TacticState, tactic: str) -> TacticResult:
        if GIVE_UP.search(tactic):
            return ProofGivenUp()
        answer = self.env.ask({"tactic": tactic, "proofState": state.id}, self.timeout)
        if "message" in answer and "proofState" not in answer:
            return LeanError(str(answer["message"]))
        errors = errors_of(answer)
        if errors:
            return LeanError("\n".join(errors))
        goals = answer.get("goals", [])
        if not goals:
            return ProofFinished(int(answer.get("proofState", -1)))
        return TacticState(pp="\n\n".join(goals), id=int(answer["proofState"]))


class ReplEnvironment:
    """Opens theorems of the Lean project ``project`` in one long-lived REPL process (restarted after a hang)."""

    kind = "repl"

    def __init__(self, command: str | list[str] | None = None, project: str | os.PathLike | None = None) -> None:
        self.command = shlex.split(command) if isinstance(command, str) else list(command or shlex.split(
            DEFAULT_COMMAND))
        self.project = None if project is None else Path(project)
        if self.project is not None and not self.project.is_dir():
            raise EnvironmentUnavailableError(f"--repl-project {self.project}: no such folder; pass the Lean project "
                                              "(repository checkout) the benchmark's files come from")
        self._proc: ReplProcess | None = None
        self._prefix_env: dict[str, tuple[str, int]] = {}  # file -> (prefix text, REPL env)

    def ask(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._proc is None:
            self._proc = ReplProcess(self.command, None if self.project is None else str(self.project))
        try:
            return self._proc.request(payload, timeout)
        except ReplTimeout as err:
            self.restart()
            raise DojoCrashError(f"{err}; the REPL was restarted") from None
        except DojoCrashError:
            self.restart()
            raise

    def restart(self) -> None:
        if self._proc is not None:
            self._proc.close()
        self._proc, self._prefix_env = None, {}

    def close(self) -> None:
        self.restart()

    def _source(self, thm: TheoremRecord) -> str:
        path = (self.project or Path.cwd()) / thm.file_path
        if not path.is_file():
            raise DojoInitError(f"{path} not found; --repl-project must be the checkout the benchmark was traced from")
        return path.read_text(encoding="utf-8")

    def _env_for(self, file_path: str, prefix: str, timeout: float) -> int:
        cached = self._prefix_env.get(file_path)
        if cached is not None and prefix.startswith(cached[0]):
            rest = prefix[len(cached[0]):]
            if not rest.strip():
                return cached[1]
            answer = self.ask({"cmd": rest, "env": cached[1]}, timeout)
        else:
            answer = self.ask({"cmd": prefix}, timeout)
        errors = errors_of(answer)
        if "env" not in answer or errors:
            raise DojoInitError(f"the REPL could not elaborate {file_path} up to the theorem: "
                                f"{'; '.join(errors) or answer.get('message', answer)}")
        self._prefix_env[file_path] = (prefix, int(answer["env"]))
        return int(answer["env"])

    @contextmanager
    def dojo(self, theorem: TheoremRecord, timeout: float = 600.0) -> Iterator[tuple[ReplSession, TacticState]]:
        prefix, stated = theorem_text(self._source(theorem), theorem)
        env_id = self._env_for(theorem.file_path, prefix, timeout)
        answer = self.ask({"cmd": stated, "env": env_id}, timeout)
        sorries = answer.get("sorries") or []
        if errors_of(answer) or not sorries:
            raise DojoInitError(f"the REPL could not state {theorem.full_name}: "
                                f"{'; '.join(errors_of(answer)) or 'no sorry proof state in its answer'}")
        init = TacticState(pp=sorries[0]["goal"], id=int(sorries[0]["proofState"]))
        yield ReplSession(self, init, timeout), init
