"""Checks run in the driver before any worker starts, so a mistake is one line now, not a failure per theorem.

- the generator: its kind, its path (or hub id), and, when workers will build their own copies, one full load
  here (a retrieval-trained generator without ``--retriever`` is refused at that point);
- the retriever and the saved premise index (``--indexed-corpus`` must belong to this corpus);
- the environment: the backend can be built here (Lean installed, lean_dojo importable) and, for ``--env lean``,
  every repository the theorems come from is already traced in LeanDojo's cache. Without that check the first
  ``Dojo`` would start tracing mathlib4 (about an hour on 32 CPUs) inside a worker, once per worker.
"""

from __future__ import annotations

from pathlib import Path

from reprover.data.benchmark import Benchmark
from reprover.data.records import TheoremRecord
from reprover.env import make_environment
from reprover.env.types import EnvironmentUnavailableError
from reprover.search.prover import GeneratorUnavailableError, ProverSpec, build_generator

BUILT_IN = ("oracle", "fixed")


def check_model_path(option: str, spec: str, example: str) -> None:
    from reprover.convert import is_hub_id

    if not Path(spec).exists() and not is_hub_id(spec):
        raise GeneratorUnavailableError(
            f"{option} {spec}: no such checkpoint, export folder or Hugging Face folder; pass a model trained with "
            f"`python train.py ...`, a Hugging Face folder or hub id such as {example}"
            + (", or 'oracle' / --tactic TACTIC" if option == "--generator" else ""))


def check_lean_cache(theorems: list[TheoremRecord], module=None) -> None:
    """Every (url, commit) of ``theorems`` must be traced already (RP ``evaluate._get_theorems`` asserts it)."""
    if module is None:
        from reprover.env.lean import import_lean_dojo

        module = import_lean_dojo()
    for url, commit in sorted({(t.url, t.commit) for t in theorems}):
        if not module.is_available_in_cache(module.LeanGitRepo(url, commit)):
            raise EnvironmentUnavailableError(
                f"{url} at {commit[:12]} is not traced in LeanDojo's cache; run `reprover trace {url} {commit}` "
                "once first (mathlib4: about 1 h on 32 CPUs and >= 32 GB RAM)")


def preflight(spec: ProverSpec, theorems: list[TheoremRecord], num_workers: int) -> None:
    if spec.generator.startswith("lm:"):
        from reprover.search.lm_generator import parse_spec

        parse_spec(spec.generator)
    elif spec.generator not in BUILT_IN and not spec.generator.startswith("py:"):
        check_model_path("--generator", spec.generator, "kaiyuy/leandojo-lean4-tacgen-byt5-small")
    if spec.retriever is not None:
        check_model_path("--retriever", spec.retriever, "kaiyuy/leandojo-lean4-retriever-byt5-small")
    if spec.indexed_corpus is not None:
        if spec.retriever is None:
            raise GeneratorUnavailableError("--indexed-corpus is only used with --retriever; pass the retriever "
                                            "the index was built with")
        from reprover.retrieval.saved_index import load_index

        load_index(spec.indexed_corpus, Benchmark(spec.data).corpus)
    make_environment(spec.env, **spec.env_options)
    if spec.env == "lean":
        check_lean_cache(theorems)
    cheap = spec.generator == "fixed" or spec.generator.startswith(("py:", "lm:openai:"))
    if cheap or (num_workers > 1 and spec.generator != "oracle"):
        build_generator(spec, theorems)  # a bad generator is reported once, up front, not by every worker
