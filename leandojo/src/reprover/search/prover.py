"""What a proving worker needs, as one picklable description, and how a worker builds it.

Ray actors (and the in-process path) receive a :class:`ProverSpec`, never live models or sessions, so the
same code runs in this process, in local Ray actors, or on a Ray cluster: each worker loads its own generator
copy and opens its own environment (RP ``DistributedProver``/``ProverActor``).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field

from reprover.data.benchmark import Benchmark
from reprover.data.records import TheoremRecord
from reprover.env import Environment, make_environment
from reprover.search.best_first import SearchConfig, prove_theorem
from reprover.search.generator_api import TacticGenerator
from reprover.search.oracle import OracleGenerator
from reprover.search.result import SearchResult

log = logging.getLogger(__name__)


class GeneratorUnavailableError(RuntimeError):
    """A checkpoint generator was asked for but cannot be loaded here."""


@dataclass(frozen=True)
class ProverSpec:
    data: str  # benchmark root
    split: str  # random | novel_premises
    subset: str  # val | test (train also allowed)
    env: str = "replay"  # replay | lean
    generator: str = "oracle"  # "oracle" or a checkpoint path
    retriever: str | None = None  # retriever checkpoint (for retrieval-augmented generators)
    search: SearchConfig = field(default_factory=SearchConfig)


def load_checkpoint_generator(spec: ProverSpec) -> TacticGenerator:
    """``reprover.generation.load_generator(ckpt, retriever_ckpt=..., [data_dir=...])``, or a clear error."""
    try:
        from reprover.generation import load_generator
    except ImportError as err:
        raise GeneratorUnavailableError(
            f"--generator {spec.generator}: checkpoint generators are not available in this installation "
            f"(reprover.generation.load_generator could not be imported: {err}); use --generator oracle") from None
    kwargs = {"retriever_ckpt": spec.retriever}
    if "data_dir" in inspect.signature(load_generator).parameters:
        kwargs["data_dir"] = spec.data  # the retriever needs the corpus for accessibility filtering
    return load_generator(spec.generator, **kwargs)


def build_generator(spec: ProverSpec, theorems: list[TheoremRecord]) -> TacticGenerator:
    if spec.generator == "oracle":
        return OracleGenerator(theorems)
    return load_checkpoint_generator(spec)


class Prover:
    """Holds one environment and one generator; proves theorems one after the other."""

    def __init__(self, spec: ProverSpec, theorems: list[TheoremRecord] | None = None,
                 env: Environment | None = None, generator: TacticGenerator | None = None) -> None:
        if theorems is None:
            theorems = Benchmark(spec.data).split(spec.split, spec.subset)
        self.spec = spec
        self.env = env if env is not None else make_environment(spec.env)
        self.generator = generator if generator is not None else build_generator(spec, theorems)

    def prove(self, theorem: TheoremRecord) -> SearchResult:
        result = prove_theorem(theorem, self.env, self.generator, self.spec.search)
        log.info("%s: %s in %.2fs (%d expansions)", theorem.full_name, result.status, result.total_time,
                 result.num_expansions)
        return result
