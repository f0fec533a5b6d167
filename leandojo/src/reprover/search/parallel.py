"""Proving many theorems: in this process (one worker) or on Ray actors (several), same results either way.

With ``num_workers == 1`` Ray is never imported, so the package works where Ray is not installed. With more,
each :class:`ProverActor` builds its own :class:`Prover` from the picklable spec; the driver keeps one
theorem in flight per actor and hands the next one to whichever actor finishes first. ``on_result`` is called
in the driver as each theorem finishes (``reprover prove`` appends it to its JSONL there), so a long run
loses nothing when it stops. ``ray.init`` joins a running cluster when ``RAY_ADDRESS`` is set, and starts a
local one otherwise; worker logs reach the driver's terminal (``log_to_driver``).

Failures never end the run: an exception while proving is caught inside the actor (:meth:`Prover.prove`);
an actor process that dies (segfault, out of memory, ``os._exit``) is restarted by Ray (``max_restarts``)
and the theorem it was proving is recorded as "open" with ``stop_reason="worker_died"``. Only when every
actor is gone for good does the run stop, with what it has already written.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable

from reprover.data.records import TheoremRecord
from reprover.search.prover import Prover, ProverSpec
from reprover.search.result import OPEN, SearchResult

log = logging.getLogger(__name__)
MAX_RESTARTS = 3  # per actor; a theorem that kills its worker is recorded and not retried

OnResult = Callable[[SearchResult], None]


def prove_all(spec: ProverSpec, theorems: list[TheoremRecord], num_workers: int = 1,
              num_gpus: float = 0.0, on_result: OnResult | None = None,
              all_theorems: list[TheoremRecord] | None = None) -> list[SearchResult]:
    """One SearchResult per theorem, in the order of ``theorems``.

    ``all_theorems`` (default ``theorems``) is what a worker's generator may know about (the oracle's
    recorded tactics); ``theorems`` is what is proved now (a resumed run passes only the unfinished ones).
    """
    if num_workers < 1:
        raise ValueError(f"--num-workers must be >= 1, got {num_workers}")
    on_result = on_result or (lambda _r: None)
    known = all_theorems if all_theorems is not None else theorems
    if not theorems:
        return []
    if num_workers == 1 or len(theorems) == 1:
        prover = Prover(spec, known)
        results = []
        for t in theorems:
            results.append(prover.prove(t))
            on_result(results[-1])
        return results
    return _prove_with_ray(spec, theorems, known, num_workers, num_gpus, on_result)


def worker_died(theorem: TheoremRecord, err: BaseException) -> SearchResult:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return SearchResult(theorem.file_path, theorem.full_name, OPEN, stop_reason="worker_died",
                        error=f"{type(err).__name__}: {first}"[:500])


def _prove_with_ray(spec: ProverSpec, theorems: list[TheoremRecord], known: list[TheoremRecord], num_workers: int,
                    num_gpus: float, on_result: OnResult) -> list[SearchResult]:
    try:
        import ray
    except ImportError as err:
        raise RuntimeError(f"--num-workers {num_workers} needs Ray ({err}); `pip install ray` or use "
                           "--num-workers 1") from None
    started_here = not ray.is_initialized()
    if started_here:
        address = os.environ.get("RAY_ADDRESS")
        ray.init(address=address, num_cpus=None if address else num_workers, num_gpus=None if address else num_gpus,
                 include_dashboard=False, log_to_driver=True, ignore_reinit_error=True)
    try:
        actor_cls = ray.remote(num_cpus=1, num_gpus=num_gpus / num_workers if num_gpus else 0,
                               max_restarts=MAX_RESTARTS, max_task_retries=0)(ProverActor)
        level = logging.getLogger().getEffectiveLevel()
        actors = [actor_cls.remote(spec, known, level) for _ in range(min(num_workers, len(theorems)))]
        return _schedule(ray, actors, theorems, on_result)
    finally:
        if started_here:
            ray.shutdown()


def _schedule(ray, actors: list, theorems: list[TheoremRecord], on_result: OnResult) -> list[SearchResult]:
    """Keep every live actor busy; record each result (or the death of its worker) as it comes."""
    todo = deque(range(len(theorems)))
    pending: dict = {}
    by_index: dict[int, SearchResult] = {}

    def submit(actor) -> None:
        if todo:
            i = todo.popleft()
            pending[actor.prove.remote(i, theorems[i])] = (actor, i)

    for a in actors:
        submit(a)
    live = len(actors)
    while pending:
        [ref], _ = ray.wait(list(pending), num_returns=1)
        actor, i = pending.pop(ref)
        try:
            result = ray.get(ref)[1]
        except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as err:
            log.warning("worker died while proving %s: %s", theorems[i].full_name, str(err).splitlines()[0])
            result = worker_died(theorems[i], err)
            if not _alive(ray, actor):
                live -= 1
                actor = None
        by_index[i] = result
        on_result(result)
        if actor is not None:
            submit(actor)
        if live == 0 and todo:
            raise RuntimeError(f"every Ray worker died ({len(todo)} theorems left); the finished ones are "
                               "recorded, rerun the same command to resume")
    return [by_index[i] for i in range(len(theorems))]


def _alive(ray, actor) -> bool:
    try:
        ray.get(actor.ready.remote(), timeout=300)
        return True
    except Exception:  # any failure to answer means the actor is gone
        return False


class ProverActor:
    """Body of a Ray actor: one Prover per worker process (own generator copy, own environment)."""

    def __init__(self, spec: ProverSpec, theorems: list[TheoremRecord], log_level: int = logging.WARNING) -> None:
        logging.basicConfig(level=log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        self.prover = Prover(spec, theorems)

    def ready(self) -> bool:
        return True

    def prove(self, index: int, theorem: TheoremRecord) -> tuple[int, SearchResult]:
        return index, self.prover.prove(theorem)
