"""Best-first proof search (paper Sec. 5, RP ``prover/proof_search.py``).

Pop the open state with the highest cumulative log-probability, ask the generator for tactics, run them
best first, add the outcomes to the graph, repeat. Edge cases, decided explicitly:

- **Ties** in priority pop in discovery order (FIFO), so runs are deterministic.
- **Merging**: a state whose ``pp`` was seen before reuses that node (an extra in-edge) and is not enqueued
  again; its priority stays that of its first discovery.
- **No-op tactics**: a response equal to the expanded state itself is an error node ("no progress"); a
  self-loop can never help a proof and would keep a dead node OPEN.
- **Duplicate suggestions** keep the first (highest-scoring) copy; suggestions run in descending score.
- **After a proof** is found while expanding a node, its remaining tactics are not run.
- **Time limit** (``timeout`` s of wall clock, counted once the theorem is open, as RP): checked before each
  generator call and each tactic. A response that arrives after the deadline is discarded, so a proof
  completed after the time limit does not count. Unlike RP, a proof found within the limits is never reset to OPEN.
- **Expansion cap**: at most ``max_expansions`` expansions; a proof found during the last allowed one counts.
- **Errors**: ``LeanError``, ``ProofGivenUp`` and tactic timeouts become FAILED error nodes; a crash ends the
  search with what it has (status "open" unless already proved); a theorem that cannot be opened is
  "discarded".
- **Exhaustion**: an empty queue without a proof is "failed".
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from reprover.data.records import TheoremRecord
from reprover.env.base import Dojo, Environment
from reprover.env.types import (
    DojoCrashError,
    DojoError,
    DojoInitError,
    DojoTacticTimeoutError,
    LeanError,
    ProofFinished,
    ProofGivenUp,
    TacticState,
)
from reprover.search import result as R
from reprover.search.generator_api import TacticGenerator
from reprover.search.tree import Edge, ErrorNode, InternalNode, Node, ProofFinishedNode, Status


@dataclass(frozen=True)
class SearchConfig:
    """Defaults are RP's evaluation settings (``prover/evaluate.py``)."""

    timeout: float = 600.0  # seconds per theorem (paper: 10-minute wall clock)
    max_expansions: int | None = None  # None = unlimited
    num_sampled_tactics: int = 64
    tactic_timeout: float | None = None
    """seconds per tactic (and for opening) given to the environment; None = ``timeout``, as RP, which passes
    the theorem's timeout to ``Dojo``"""

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.num_sampled_tactics < 1:
            raise ValueError(f"timeout must be > 0 and num_sampled_tactics >= 1, got {self}")
        if self.tactic_timeout is not None and self.tactic_timeout <= 0:
            raise ValueError(f"tactic_timeout must be > 0 or None, got {self.tactic_timeout}")
        if self.max_expansions is not None and self.max_expansions < 1:
            raise ValueError(f"max_expansions must be >= 1 or None, got {self.max_expansions}")


class _Stop(Exception):
    def __init__(self, reason: str, error: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.error = reason, error


class BestFirstSearch:
    """One search over one theorem. Use :func:`prove_theorem` unless you need the graph afterwards."""

    def __init__(self, theorem: TheoremRecord, dojo: Dojo, init: TacticState, generator: TacticGenerator,
                 config: SearchConfig, start: float, clock: Callable[[], float]) -> None:
        self.thm, self.dojo, self.gen, self.cfg = theorem, dojo, generator, config
        self.clock, self.deadline = clock, start + config.timeout
        self.root = InternalNode(init, 0.0)
        self.nodes: dict[str, InternalNode] = {init.pp: self.root}
        self._queue: list[tuple[float, int, InternalNode]] = []
        self._order = itertools.count()
        self._push(self.root)
        self.expansions = 0
        self.actor_time = self.env_time = 0.0

    def _push(self, node: InternalNode) -> None:
        heapq.heappush(self._queue, (-node.priority, next(self._order), node))

    def _check_limits(self) -> None:
        if self.clock() >= self.deadline:
            raise _Stop("timeout")
        if self.cfg.max_expansions is not None and self.expansions >= self.cfg.max_expansions:
            raise _Stop("max_expansions")

    def run(self) -> tuple[str, str | None]:
        """Search until proved, exhausted or stopped; returns (stop_reason, error)."""
        try:
            while self._queue and self.root.status is Status.OPEN:
                self._check_limits()
                node = heapq.heappop(self._queue)[2]
                if not node.is_explored:
                    self._expand(node)
        except _Stop as stop:
            if self.root.status is not Status.PROVED:
                return stop.reason, stop.error
        return ("proved" if self.root.status is Status.PROVED else "exhausted"), None

    def _expand(self, node: InternalNode) -> None:
        t0 = self.clock()
        suggestions = self.gen.generate(node.state.pp, self.thm.file_path, self.thm.full_name, self.thm.start,
                                        self.cfg.num_sampled_tactics)
        self.actor_time += self.clock() - t0
        edges: list[Edge] = []
        complete = False
        try:
            for tactic, logprob in _best_first_unique(suggestions):
                self._check_limits_time_only()
                child = self._run(node, tactic, logprob)
                edges.append(Edge(tactic, node, child))
                if isinstance(child, ProofFinishedNode):
                    break
            complete = True
        finally:  # also on a stop: what was learned stays in the graph
            node.set_out_edges(edges, complete)
            self.expansions += 1

    def _check_limits_time_only(self) -> None:
        if self.clock() >= self.deadline:
            raise _Stop("timeout")

    def _run(self, node: InternalNode, tactic: str, logprob: float) -> Node:
        t0 = self.clock()
        try:
            response = self.dojo.run_tac(node.state, tactic)
        except DojoTacticTimeoutError as err:
            response = LeanError(f"timeout: {err}")
        except (DojoCrashError, DojoInitError, DojoError) as err:
            raise _Stop("crash", f"{type(err).__name__}: {err}") from err
        finally:
            self.env_time += self.clock() - t0
        if self.clock() > self.deadline:
            raise _Stop("timeout")  # an answer after the deadline does not count
        if isinstance(response, ProofFinished):
            return ProofFinishedNode()
        if isinstance(response, LeanError | ProofGivenUp):
            return ErrorNode(getattr(response, "error", "proof contains sorry"))
        if response.pp == node.state.pp:
            return ErrorNode("no progress: the tactic left the state unchanged")
        if response.pp in self.nodes:
            return self.nodes[response.pp]
        child = InternalNode(response, node.priority + logprob)
        self.nodes[response.pp] = child
        self._push(child)
        return child


def _best_first_unique(suggestions: list[tuple[str, float]]) -> list[tuple[str, float]]:
    seen: set[str] = set()
    unique = []
    for tactic, score in sorted(suggestions, key=lambda ts: -ts[1]):  # stable: ties keep generator order
        if tactic not in seen:
            seen.add(tactic)
            unique.append((tactic, score))
    return unique


def prove_theorem(theorem: TheoremRecord, env: Environment, generator: TacticGenerator, config: SearchConfig,
                  clock: Callable[[], float] = time.monotonic) -> R.SearchResult:
    """Open ``theorem`` in ``env`` and search; never raises for per-theorem failures.

    The theorem's time budget starts once its environment is open (as RP, whose search clock starts inside
    ``with Dojo(...)``): opening a Lean file can take minutes and is not search. ``total_time`` includes it,
    ``extra["open_time"]`` says how much it was. Any exception while opening (not only ``DojoInitError``: a
    backend can fail in many ways before it answers) discards the theorem, with the exception as the reason.
    """
    start = clock()
    out = R.SearchResult(theorem.file_path, theorem.full_name, R.OPEN)
    search: BestFirstSearch | None = None
    opened = False
    try:
        with env.dojo(theorem, config.tactic_timeout or config.timeout) as (dojo, init):
            opened = True
            out.extra["open_time"] = clock() - start
            search = BestFirstSearch(theorem, dojo, init, generator, config, clock(), clock)
            out.stop_reason, out.error = search.run()
    except DojoInitError as err:
        return _discarded(out, f"DojoInitError: {err}", clock() - start)
    except DojoError as err:  # the backend died while opening or closing: unproved, not discarded
        if not opened:
            return _discarded(out, f"{type(err).__name__}: {err}", clock() - start)
        out.stop_reason, out.error, out.total_time = "crash", f"{type(err).__name__}: {err}", clock() - start
        return out
    except Exception as err:
        if opened:  # a bug in search or the generator: the caller records it
            raise
        return _discarded(out, f"{type(err).__name__}: {err}", clock() - start)
    assert search is not None
    root = search.root
    out.status = {Status.PROVED: R.PROVED, Status.FAILED: R.FAILED}.get(root.status, R.OPEN)
    if out.stop_reason == "exhausted":
        out.status = R.FAILED
    out.proof = root.extract_proof()
    out.num_expansions, out.num_total_nodes = search.expansions, len(search.nodes)
    out.actor_time, out.environment_time, out.total_time = search.actor_time, search.env_time, clock() - start
    return out


def _discarded(out: R.SearchResult, reason: str, elapsed: float) -> R.SearchResult:
    out.status, out.stop_reason, out.error, out.total_time = R.DISCARDED, "init_error", reason, elapsed
    return out
