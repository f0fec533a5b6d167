"""Proving many theorems: in this process (one worker) or on Ray actors (several), same results either way.

With ``num_workers == 1`` Ray is never imported, so the package works where Ray is not installed. With more,
each :class:`ProverActor` builds its own :class:`Prover` from the picklable spec and theorems are fed
through a Ray ``ActorPool`` (``map_unordered``); results are put back in input order. ``ray.init`` joins a
running cluster when ``RAY_ADDRESS`` is set, and starts a local one otherwise.
"""

from __future__ import annotations

import logging
import os

from reprover.data.records import TheoremRecord
from reprover.search.prover import Prover, ProverSpec
from reprover.search.result import SearchResult

log = logging.getLogger(__name__)


def prove_all(spec: ProverSpec, theorems: list[TheoremRecord], num_workers: int = 1,
              num_gpus: float = 0.0) -> list[SearchResult]:
    """One SearchResult per theorem, in the order of ``theorems``."""
    if num_workers < 1:
        raise ValueError(f"--num-workers must be >= 1, got {num_workers}")
    if num_workers == 1 or len(theorems) <= 1:
        prover = Prover(spec, theorems)
        return [prover.prove(t) for t in theorems]
    return _prove_with_ray(spec, theorems, num_workers, num_gpus)


def _prove_with_ray(spec: ProverSpec, theorems: list[TheoremRecord], num_workers: int,
                    num_gpus: float) -> list[SearchResult]:
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as err:
        raise RuntimeError(f"--num-workers {num_workers} needs Ray ({err}); `pip install ray` or use "
                           "--num-workers 1") from None
    started_here = not ray.is_initialized()
    if started_here:
        address = os.environ.get("RAY_ADDRESS")
        ray.init(address=address, num_cpus=None if address else num_workers, num_gpus=None if address else num_gpus,
                 include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        actor_cls = ray.remote(num_cpus=1, num_gpus=num_gpus / num_workers if num_gpus else 0)(ProverActor)
        actors = [actor_cls.remote(spec, theorems) for _ in range(num_workers)]
        pool = ActorPool(actors)
        by_index: dict[int, SearchResult] = {}
        jobs = list(enumerate(theorems))
        for i, result in pool.map_unordered(lambda a, job: a.prove.remote(*job), jobs):
            by_index[i] = result
        return [by_index[i] for i in range(len(theorems))]
    finally:
        if started_here:
            ray.shutdown()


class ProverActor:
    """Body of a Ray actor: one Prover per worker process (own generator copy, own environment)."""

    def __init__(self, spec: ProverSpec, theorems: list[TheoremRecord]) -> None:
        self.prover = Prover(spec, theorems)

    def prove(self, index: int, theorem: TheoremRecord) -> tuple[int, SearchResult]:
        return index, self.prover.prove(theorem)
