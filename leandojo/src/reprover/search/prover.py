"""What a proving worker needs, as one picklable description, and how a worker builds it.

Ray actors (and the in-process path) receive a :class:`ProverSpec`, never live models or sessions, so the
same code runs in this process, in local Ray actors, or on a Ray cluster: each worker loads its own generator
copy and opens its own environment (RP ``DistributedProver``/``ProverActor``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass, field

from reprover.data.benchmark import Benchmark
from reprover.data.records import TheoremRecord
from reprover.env import Environment, make_environment
from reprover.search.best_first import SearchConfig, prove_theorem
from reprover.search.fixed import FixedTacticGenerator
from reprover.search.generator_api import TacticGenerator
from reprover.search.oracle import OracleGenerator
from reprover.search.result import OPEN, SearchResult

log = logging.getLogger(__name__)


class GeneratorUnavailableError(RuntimeError):
    """A checkpoint generator was asked for but cannot be loaded here."""


@dataclass(frozen=True)
class ProverSpec:
    data: str  # benchmark root
    split: str  # random | novel_premises
    subset: str  # val | test (train also allowed)
    env: str = "replay"  # replay | lean | repl
    generator: str = "oracle"  # "oracle", "fixed" (with ``tactic``), "lm:BACKEND:MODEL", "py:MODULE:FACTORY", or a
    # checkpoint / HF folder
    retriever: str | None = None  # retriever checkpoint or HF folder (for retrieval-augmented generators)
    search: SearchConfig = field(default_factory=SearchConfig)
    indexed_corpus: str | None = None  # premise index saved by ``reprover index``
    tactic: str | None = None  # the fixed-tactic baseline's tactic (RP ``--tactic``)
    allow_no_retriever: bool = False  # run a retrieval-trained generator without premises anyway
    premise_marks: str = "strip"  # "strip" (ours) or "keep" (RP's proof-time input)
    dtype: str = "auto"  # generator/retriever weights: auto (bf16 on CUDA) | float32 | bfloat16
    env_options: dict = field(default_factory=dict)  # backend-specific (e.g. the REPL command)
    max_inp_seq_len: int | None = None  # generator input bytes at proof time; None = the model's (2048)
    max_oup_seq_len: int | None = None  # generator output tokens; None = the model's (512)
    lm_options: dict = field(default_factory=dict)  # ``lm:`` generators: LMGeneratorOptions fields


def load_checkpoint_generator(spec: ProverSpec) -> TacticGenerator:
    """``reprover.generation.load_generator(ckpt, retriever_ckpt=..., ...)``, or a clear error."""
    try:
        from reprover.generation import load_generator
    except ImportError as err:
        raise GeneratorUnavailableError(
            f"--generator {spec.generator}: checkpoint generators are not available in this installation "
            f"(reprover.generation.load_generator could not be imported: {err}); use --generator oracle") from None
    kwargs = {"retriever_ckpt": spec.retriever}
    params = inspect.signature(load_generator).parameters
    if "data_dir" in params or "kwargs" in params:
        kwargs.update(data_dir=spec.data, indexed_corpus=spec.indexed_corpus,
                      allow_no_retriever=spec.allow_no_retriever, premise_marks=spec.premise_marks,
                      dtype=spec.dtype, max_inp_seq_len=spec.max_inp_seq_len,
                      max_oup_seq_len=spec.max_oup_seq_len)
    return load_generator(spec.generator, **kwargs)


def load_plugin_generator(spec: ProverSpec, theorems: list[TheoremRecord]) -> TacticGenerator:
    """``py:MODULE:FACTORY``: ``FACTORY(spec, theorems)`` from an importable module builds the generator."""
    module_name, _, attr = spec.generator[3:].rpartition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise GeneratorUnavailableError(f"--generator {spec.generator}: cannot import {attr!r} from "
                                        f"{module_name!r} ({err}); the form is py:MODULE:FACTORY") from None
    return factory(spec, theorems)


def load_lm_generator(spec: ProverSpec) -> TacticGenerator:
    """``lm:BACKEND:MODEL``: a ``ninerepro.lm`` backend proposing tactics, with retrieved premises in its prompt."""
    from ninerepro.lm.types import LMError
    from reprover.search.lm_generator import LMGeneratorOptions, build_lm_generator

    retriever = None
    if spec.retriever is not None:
        from reprover.retrieval.cli import build_retriever

        retriever = build_retriever(spec.retriever, Benchmark(spec.data).corpus, "auto", spec.indexed_corpus,
                                    spec.dtype)
    try:
        return build_lm_generator(spec.generator, LMGeneratorOptions(**spec.lm_options), retriever)
    except LMError as err:
        raise GeneratorUnavailableError(f"--generator {spec.generator}: {err}") from None


def build_generator(spec: ProverSpec, theorems: list[TheoremRecord]) -> TacticGenerator:
    if spec.generator == "oracle":
        return OracleGenerator(theorems)
    if spec.generator == "fixed":
        if not spec.tactic:
            raise GeneratorUnavailableError("--generator fixed needs --tactic TACTIC (e.g. --tactic aesop)")
        return FixedTacticGenerator(spec.tactic)
    if spec.generator.startswith("py:"):
        return load_plugin_generator(spec, theorems)
    if spec.generator.startswith("lm:"):
        return load_lm_generator(spec)
    return load_checkpoint_generator(spec)


class Prover:
    """Holds one environment and one generator; proves theorems one after the other."""

    def __init__(self, spec: ProverSpec, theorems: list[TheoremRecord] | None = None,
                 env: Environment | None = None, generator: TacticGenerator | None = None) -> None:
        if theorems is None:
            theorems = Benchmark(spec.data).split(spec.split, spec.subset)
        self.spec = spec
        self.env = env if env is not None else make_environment(spec.env, **spec.env_options)
        self.generator = generator if generator is not None else build_generator(spec, theorems)

    def prove(self, theorem: TheoremRecord) -> SearchResult:
        """Never raises: an exception while proving becomes an "open" result whose error says what happened."""
        try:
            result = prove_theorem(theorem, self.env, self.generator, self.spec.search)
        except Exception as err:  # one theorem's bug must not end a 2,000-theorem run
            log.exception("%s: proving raised", theorem.full_name)
            result = SearchResult(theorem.file_path, theorem.full_name, OPEN, stop_reason="exception",
                                  error=f"{type(err).__name__}: {err}")
        log.info("%s: %s in %.2fs (%d expansions)", theorem.full_name, result.status, result.total_time,
                 result.num_expansions)
        return result
