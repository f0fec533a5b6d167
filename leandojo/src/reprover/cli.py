"""``reprover``: one command line for the subproject.

Subcommands: ``prove`` (Pass@1 by best-first search), ``index`` (embed the premise corpus once),
``trace`` (LeanDojo tracing of a repository, for ``--env lean``), ``split`` (rebuild random/novel_premises splits),
``check-data`` (load a benchmark strictly and print its statistics) and ``retrieve-eval`` (R@1/R@10/MRR,
defined in ``reprover.retrieval.cli``). Training is not a subcommand: it is ``python train.py
{retriever,generator} -c CONFIG``, the entry point every subproject of this repository shares. Each parser
sets ``func(args) -> int | None``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ninerepro.train import CheckpointError
from reprover.data import STRATEGIES, BenchmarkFormatError
from reprover.env.types import EnvironmentUnavailableError
from reprover.retrieval.cli import add_subcommands as add_retrieval_subcommands
from reprover.search.prover import GeneratorUnavailableError

# Errors that are the user's to fix: one line on stderr, exit code 2 (``--debug`` shows the traceback).
USER_ERRORS = (BenchmarkFormatError, EnvironmentUnavailableError, GeneratorUnavailableError, FileNotFoundError,
               CheckpointError, ValueError)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``reprover prove: error: ...``) and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def add_prove(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prove", help="best-first proof search over a split; streams per-theorem JSONL, writes "
                       "Pass@1 JSON; a rerun resumes")
    p.add_argument("--data", required=True, help="LeanDojo Benchmark directory (holds corpus.jsonl)")
    p.add_argument("--split", choices=STRATEGIES, default="random")
    p.add_argument("--subset", choices=("train", "val", "test"), default="val")
    p.add_argument("--env", choices=("replay", "lean", "repl", "rewrite"), default="replay",
                   help="replay (recorded states), lean (LeanDojo), repl (Lean 4 REPL), rewrite (the toy kernel of "
                   "`python -m reprover.toy.bench`)")
    p.add_argument("--repl-command", default=None, help="--env repl: the REPL command line (default: `lake env "
                   "../repl/.lake/build/bin/repl` run in --repl-project)")
    p.add_argument("--repl-project", default=None, help="--env repl: the Lean project the theorems' files live in")
    p.add_argument("--generator", default="oracle",
                   help="'oracle' (recorded human tactics), 'fixed' (with --tactic), lm:BACKEND:MODEL (an "
                   "OpenAI-compatible server, vLLM or HF through ninerepro.lm, e.g. lm:openai:gpt-4), "
                   "py:MODULE:FACTORY, or a model: "
                   "our export/run folder/checkpoint, or a Hugging Face folder or hub id (e.g. "
                   "kaiyuy/leandojo-lean4-tacgen-byt5-small)")
    p.add_argument("--tactic", default=None, help="the fixed-tactic baseline (RP --tactic), e.g. aesop; implies "
                   "--generator fixed")
    p.add_argument("--lm-base-url", default="http://127.0.0.1:8000",
                   help="lm:openai:MODEL: the server's base URL (…/v1/completions is called)")
    p.add_argument("--lm-api-key-env", default=None, help="lm:openai: name of the environment variable holding the "
                   "API key (the key itself never goes on the command line)")
    p.add_argument("--lm-temperature", type=non_negative_float, default=1.0,
                   help="lm: sampling temperature (0 = one greedy tactic per state)")
    p.add_argument("--lm-max-tokens", type=positive_int, default=128, help="lm: tokens per tactic")
    p.add_argument("--retriever", default=None, help="retriever (ours or HF) for a retrieval-augmented generator")
    p.add_argument("--indexed-corpus", default=None, help="premise index saved by `reprover index` (shared by "
                   "every worker instead of re-embedding the corpus)")
    p.add_argument("--allow-no-retriever", action="store_true",
                   help="run a generator trained with retrieval without --retriever (it then sees bare states)")
    p.add_argument("--premise-marks", choices=("strip", "keep"), default="strip",
                   help="strip <a> marks from the generator input (ours, as in training) or keep them (RP at "
                   "proof time)")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="model weights at proof time; auto = bfloat16 on CUDA, float32 on CPU")
    p.add_argument("--max-inp-seq-len", type=positive_int, default=None,
                   help="generator input budget in bytes (RP evaluate; default: the model's, 2048)")
    p.add_argument("--max-oup-seq-len", type=positive_int, default=None,
                   help="generator output cap in tokens (RP evaluate; default: the model's, 512)")
    p.add_argument("--num-workers", type=positive_int, default=1, help=">1 runs Ray actors (local, or RAY_ADDRESS)")
    p.add_argument("--num-gpus", type=non_negative_float, default=0.0, help="GPUs shared by the workers")
    p.add_argument("--file-path", default=None, help="only theorems of this file (RP --file-path)")
    p.add_argument("--full-name", default=None, help="only the theorem of this full name (RP --full-name)")
    p.add_argument("--name-filter", default=None, help="only theorems whose md5(full_name) starts with this hex "
                   "prefix (RP --name-filter; a shard)")
    p.add_argument("--num-theorems", type=positive_int, default=None, help="first N in md5 order (deterministic)")
    p.add_argument("--timeout", type=positive_float, default=600.0,
                   help="seconds of search per theorem, counted once its environment is open (RP: 600)")
    p.add_argument("--tactic-timeout", type=positive_float, default=None,
                   help="seconds per tactic (and for opening) given to the environment; default = --timeout, as RP")
    p.add_argument("--max-expansions", type=positive_int, default=None)
    p.add_argument("--num-sampled-tactics", type=positive_int, default=64)
    p.add_argument("--output", required=True, help="summary JSON; per-theorem lines stream to OUT.jsonl beside it")
    p.add_argument("--fresh", action="store_true", help="discard OUT.jsonl and start over (default: resume)")
    p.add_argument("--retry-errors", action="store_true",
                   help="on resume, prove again theorems whose attempt raised or killed its worker")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_prove)


def run_prove(args: argparse.Namespace) -> int:
    from reprover.data import Benchmark
    from reprover.search.best_first import SearchConfig
    from reprover.search.evaluate import select_theorems
    from reprover.search.preflight import preflight
    from reprover.search.prover import ProverSpec
    from reprover.search.run import results_path, run_pass1

    generator = "fixed" if args.tactic is not None and args.generator == "oracle" else args.generator
    search = SearchConfig(args.timeout, args.max_expansions, args.num_sampled_tactics, args.tactic_timeout)
    env_options = {k: v for k, v in (("command", args.repl_command), ("project", args.repl_project)) if v}
    if args.env == "rewrite":
        env_options = {"data": args.data}
    lm_options = {}
    if generator.startswith("lm:"):
        import os

        lm_options = {"base_url": args.lm_base_url, "temperature": args.lm_temperature,
                      "max_tokens": args.lm_max_tokens}
        if args.lm_api_key_env:
            if not os.environ.get(args.lm_api_key_env):
                raise ValueError(f"--lm-api-key-env {args.lm_api_key_env}: that environment variable is empty; "
                                 f"export {args.lm_api_key_env}=... first")
            lm_options["api_key_env"] = args.lm_api_key_env  # the name only: specs are written to the results
    spec = ProverSpec(args.data, args.split, args.subset, args.env, generator, args.retriever, search,
                      indexed_corpus=args.indexed_corpus, tactic=args.tactic,
                      allow_no_retriever=args.allow_no_retriever, premise_marks=args.premise_marks,
                      dtype=args.dtype, env_options=env_options, max_inp_seq_len=args.max_inp_seq_len,
                      max_oup_seq_len=args.max_oup_seq_len, lm_options=lm_options)
    split = Benchmark(args.data).split(args.split, args.subset)
    theorems = select_theorems(split, file_path=args.file_path, full_name=args.full_name,
                               name_filter=args.name_filter, num_theorems=args.num_theorems)
    if not theorems:
        raise ValueError(f"no theorem of {args.split}/{args.subset} matches --file-path/--full-name/--name-filter; "
                         f"list them with `reprover check-data --data {args.data}`")
    preflight(spec, theorems, args.num_workers)  # everything that can fail fails here, before any worker starts
    summary = run_pass1(spec, theorems, args.output, num_workers=args.num_workers, num_gpus=args.num_gpus,
                        fresh=args.fresh, retry_errors=args.retry_errors, progress=not args.no_progress,
                        all_theorems=split)
    score = summary["pass@1"]
    print(f"Pass@1 = {'n/a' if score is None else f'{score:.4f}'} ({summary['proved']}/{summary['total']} proved, "
          f"{summary['discarded']} discarded, {summary['errors']} errors) -> {args.output} "
          f"(per theorem: {results_path(args.output)})")
    return 0


def add_split(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("split", help="rebuild random/ and novel_premises/ from all theorems of a benchmark")
    p.add_argument("--data", required=True, help="benchmark whose random/{train,val,test}.json are the input")
    p.add_argument("--output", required=True, help="directory to write <strategy>/{train,val,test}.json into")
    p.add_argument("--num-val", type=int, default=2000)
    p.add_argument("--num-test", type=int, default=2000)
    p.add_argument("--seed", type=int, default=3407)
    p.set_defaults(func=run_split)


def run_split(args: argparse.Namespace) -> int:
    from reprover.data import load_split
    from reprover.data.splits import split_by_novel_premises, split_randomly, write_splits

    theorems = [t for s in ("train", "val", "test") for t in load_split(args.data, "random", s)]
    write_splits(args.output, "random", split_randomly(theorems, args.num_val, args.num_test, args.seed))
    write_splits(args.output, "novel_premises",
                 split_by_novel_premises(theorems, args.num_val, args.num_test, args.seed))
    print(f"wrote random/ and novel_premises/ for {len(theorems)} theorems under {args.output}")
    return 0


def add_trace(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="trace Lean repositories with LeanDojo (once; needed by --env lean)")
    p.add_argument("repo", nargs="?", help="git URL of the repository (or use --data)")
    p.add_argument("commit", nargs="?", help="its commit")
    p.add_argument("--data", default=None, help="trace every (url, commit) of this benchmark's split files")
    p.add_argument("--min-free-gb", type=non_negative_float, default=50.0,
                   help="refuse to start with less free disk under LeanDojo's CACHE_DIR")
    p.add_argument("--no-build-deps", action="store_true", help="do not trace the dependencies (lean_dojo build_deps)")
    p.set_defaults(func=run_trace)


def run_trace(args: argparse.Namespace) -> int:
    from reprover.env.lean import import_lean_dojo
    from reprover.env.trace import repos_of, trace_repos

    if (args.repo is None) == (args.data is None) or (args.repo is not None and args.commit is None):
        raise ValueError("reprover trace takes either REPO COMMIT or --data DIR, e.g. `reprover trace "
                         "https://github.com/leanprover-community/mathlib4 29dcec07...` or `reprover trace --data "
                         "data/leandojo_benchmark_4`")
    if args.data is not None:
        from reprover.data import Benchmark

        bench = Benchmark(args.data)
        repos = repos_of([t for s in STRATEGIES for sub in ("train", "val", "test") for t in bench.split(s, sub)])
    else:
        repos = [(args.repo, args.commit)]
    module = import_lean_dojo()
    n = trace_repos(repos, module, args.min_free_gb, build_deps=not args.no_build_deps)
    print(f"{n} traced now, {len(repos) - n} already in the cache")
    return 0


def add_check_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-data", help="load every split strictly (all provenances must match) and count")
    p.add_argument("--data", required=True)
    p.set_defaults(func=run_check_data)


def run_check_data(args: argparse.Namespace) -> int:
    from reprover.data import Benchmark, positive_premises

    bench = Benchmark(args.data)
    print(f"{bench.metadata.dataset_name}: {len(bench.corpus.files)} files, {len(bench.corpus)} premises")
    for strategy in STRATEGIES:
        sizes = []
        for subset in ("train", "val", "test"):
            theorems = bench.split(strategy, subset)
            for thm in theorems:
                for tac in thm.traced_tactics:
                    positive_premises(bench.corpus, thm, tac, strict=True)
            sizes.append(f"{subset} {len(theorems)} theorems / {sum(len(t.traced_tactics) for t in theorems)} tactics")
        print(f"{strategy}: " + ", ".join(sizes))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="reprover", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_prove(sub)
    add_split(sub)
    add_trace(sub)
    add_check_data(sub)
    add_retrieval_subcommands(sub)
    return parser


def _quiet_transformers() -> None:
    """Our own progress bar and one-line errors are the CLI's output; transformers' weight-loading bars are not."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (one line, already printed) or --help
        return int(stop.code or 0)
    _quiet_transformers()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        if args.debug:
            raise
        text = " ".join(str(err).split())  # one line, whatever the exception put in its message
        print(f"error: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
