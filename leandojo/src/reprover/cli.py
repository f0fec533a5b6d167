"""``reprover``: one command line for the subproject.

Subcommands: ``prove`` (Pass@1 by best-first search), ``split`` (rebuild random/novel_premises splits),
``check-data`` (load a benchmark strictly and print its statistics) and ``retrieve-eval`` (R@1/R@10/MRR,
defined in ``reprover.retrieval.cli``). Training is not a subcommand: it is ``python train.py
{retriever,generator} -c CONFIG``, the entry point every subproject of this repository shares. Each parser
sets ``func(args) -> int | None``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from reprover.data import STRATEGIES, BenchmarkFormatError
from reprover.env.types import EnvironmentUnavailableError
from reprover.retrieval.cli import add_subcommands as add_retrieval_subcommands
from reprover.search.prover import GeneratorUnavailableError

USER_ERRORS = (BenchmarkFormatError, EnvironmentUnavailableError, GeneratorUnavailableError, FileNotFoundError)


def add_prove(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prove", help="best-first proof search over a split; writes Pass@1 JSON")
    p.add_argument("--data", required=True, help="LeanDojo Benchmark directory (holds corpus.jsonl)")
    p.add_argument("--split", choices=STRATEGIES, default="random")
    p.add_argument("--subset", choices=("train", "val", "test"), default="val")
    p.add_argument("--env", choices=("replay", "lean"), default="replay")
    p.add_argument("--generator", default="oracle", help="'oracle' (recorded human tactics) or a checkpoint")
    p.add_argument("--retriever", default=None, help="retriever checkpoint for a retrieval-augmented generator")
    p.add_argument("--num-workers", type=int, default=1, help=">1 runs Ray actors (local, or RAY_ADDRESS)")
    p.add_argument("--num-gpus", type=float, default=0.0, help="GPUs shared by the workers")
    p.add_argument("--num-theorems", type=int, default=None, help="first N in md5 order (deterministic)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per theorem")
    p.add_argument("--max-expansions", type=int, default=None)
    p.add_argument("--num-sampled-tactics", type=int, default=64)
    p.add_argument("--output", required=True, help="where to write the results JSON")
    p.set_defaults(func=run_prove)


def run_prove(args: argparse.Namespace) -> int:
    from reprover.data import Benchmark
    from reprover.env import make_environment
    from reprover.search.best_first import SearchConfig
    from reprover.search.evaluate import config_of, deterministic_subset, summarize, write_summary
    from reprover.search.parallel import prove_all
    from reprover.search.prover import ProverSpec, build_generator

    search = SearchConfig(args.timeout, args.max_expansions, args.num_sampled_tactics)
    spec = ProverSpec(args.data, args.split, args.subset, args.env, args.generator, args.retriever, search)
    theorems = deterministic_subset(Benchmark(args.data).split(args.split, args.subset), args.num_theorems)
    make_environment(spec.env)  # fail here, not inside a worker, when Lean is missing
    if spec.generator != "oracle" and args.num_workers > 1:
        build_generator(spec, theorems)  # same: a missing generator is reported once, up front
    results = prove_all(spec, theorems, args.num_workers, args.num_gpus)
    summary = summarize(results, config_of(spec))
    write_summary(args.output, summary)
    score = summary["pass@1"]
    print(f"Pass@1 = {'n/a' if score is None else f'{score:.4f}'} ({summary['proved']}/{summary['total']} proved, "
          f"{summary['discarded']} discarded) -> {args.output}")
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
    parser = argparse.ArgumentParser(prog="reprover", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    add_prove(sub)
    add_split(sub)
    add_check_data(sub)
    add_retrieval_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
