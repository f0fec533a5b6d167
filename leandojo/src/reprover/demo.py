"""``make demo-leandojo``: the whole ReProver pipeline on the fixture benchmark, on CPU, in minutes.

Stages: train a tiny retriever; evaluate it against BM25 (R@1, R@10, MRR); train two tiny generators (with
and without retrieval); run best-first search on the replay environment with the oracle and both
generators; print one table and write it to ``out/demo-leandojo/results.md``. The fixture has 24 theorems
and randomly initialised 2-layer models, so the numbers show the pipeline working end to end (training
lowers the loss, the oracle proves what the replay env can check, a memorising generator proves training
theorems), not the paper's accuracy. Re-running resumes finished training runs instead of retraining;
``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from repro.envinfo import describe

LEANDOJO = Path(__file__).resolve().parents[2]
FIXTURE = LEANDOJO / "tests" / "fixtures" / "leandojo_benchmark_4"


def _repo_root() -> Path:
    return LEANDOJO.parent if (LEANDOJO.parent / "repro").is_dir() else Path.cwd()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=FIXTURE, help="benchmark directory (default: the fixture)")
    p.add_argument("--split", default="random", choices=("random", "novel_premises"))
    p.add_argument("--out", type=Path, default=_repo_root() / "out" / "demo-leandojo")
    p.add_argument("--retriever-steps", type=int, default=300)
    p.add_argument("--generator-steps", type=int, default=400)
    p.add_argument("--num-sampled-tactics", type=int, default=8)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny matrices gain nothing from more)")
    p.add_argument("--fresh", action="store_true", help="delete earlier demo runs first")
    return p.parse_args(argv)


def train_models(args: argparse.Namespace) -> dict[str, Path]:
    from repro.train import load_config
    from reprover.generation.config import GeneratorRunConfig
    from reprover.retrieval.config import RetrieverRunConfig
    from reprover.training.generator import train_generator
    from reprover.training.retriever import train_retriever

    common = [f"data.data_path={args.data}", f"data.split={args.split}"]
    rcfg = load_config(RetrieverRunConfig, LEANDOJO / "configs" / "retriever_tiny.json",
                       [*common, f"train.max_steps={args.retriever_steps}"])
    retriever = train_retriever(rcfg, args.out / "retriever")
    gen = {}
    for name, ret in (("generator_no_retrieval", None), ("generator_retrieval", retriever)):
        gcfg = load_config(GeneratorRunConfig, LEANDOJO / "configs" / "generator_tiny.json",
                           [*common, f"train.max_steps={args.generator_steps}",
                            f"data.retriever={'null' if ret is None else ret}"])
        gen[name] = train_generator(gcfg, args.out / name)
    return {"retriever": retriever, **gen}


def retrieval_rows(args: argparse.Namespace, retriever: Path) -> list[tuple[str, dict]]:
    from reprover.data.benchmark import Benchmark
    from reprover.retrieval.checkpoint import load_dense_retriever
    from reprover.retrieval.evaluate import evaluate_retrieval
    from reprover.retrieval.retriever import BM25Retriever

    bench = Benchmark(args.data)
    test = bench.split(args.split, "test")
    ours = load_dense_retriever(retriever, bench.corpus)
    return [("BM25", evaluate_retrieval(BM25Retriever(bench.corpus), test)),
            ("ours (tiny dual encoder)", evaluate_retrieval(ours, test))]


def prove_rows(args: argparse.Namespace, models: dict[str, Path]) -> list[tuple[str, str, dict]]:
    from reprover.data.benchmark import Benchmark
    from reprover.search.best_first import SearchConfig
    from reprover.search.evaluate import summarize
    from reprover.search.parallel import prove_all
    from reprover.search.prover import ProverSpec

    search = SearchConfig(timeout=60.0, max_expansions=50, num_sampled_tactics=args.num_sampled_tactics)
    methods = [("oracle (recorded tactics)", "oracle", None),
               ("ours with retrieval", str(models["generator_retrieval"]), str(models["retriever"])),
               ("ours without retrieval", str(models["generator_no_retrieval"]), None)]
    rows = []
    for subset in ("test", "train"):
        theorems = Benchmark(args.data).split(args.split, subset)
        for name, gen, ret in methods:
            spec = ProverSpec(str(args.data), args.split, subset, "replay", gen, ret, search)
            rows.append((name, subset, summarize(prove_all(spec, theorems, 1), {})))
    return rows


def render(args: argparse.Namespace, retrieval: list, proving: list, wall: float) -> str:
    from reprover.retrieval.cli import markdown_table

    lines = [f"## ReProver demo on the fixture benchmark ({args.split} split)", "",
             "Premise retrieval, test split (tactics with >= 1 positive premise; 100 retrieved):", "",
             markdown_table(retrieval), "",
             f"Proof search on the replay environment (best-first, {args.num_sampled_tactics} tactics per "
             "expansion, <= 50 expansions, 60 s per theorem); term-mode theorems count as discarded:", "",
             "| generator | subset | Pass@1 (%) | proved / total |", "|---|---|---|---|"]
    for name, subset, s in proving:
        score = "n/a" if s["pass@1"] is None else f"{100 * s['pass@1']:.1f}"
        lines.append(f"| {name} | {subset} | {score} | {s['proved']} / {s['total']} |")
    lines += ["", _environment(wall)]
    return "\n".join(lines) + "\n"


def _environment(wall: float) -> str:
    env = describe("cpu")
    return (f"Measured {env['date']}, git {env['git']}, torch {env['torch']}, CPU {env['device']}, load "
            f"{env['load']}, configs/retriever_tiny.json + configs/generator_tiny.json, wall time {wall:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    import logging

    import torch

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    if args.fresh and args.out.exists():
        shutil.rmtree(args.out)
    start = time.time()
    print(f"[demo] training tiny retriever + generators into {args.out} ...", flush=True)
    models = train_models(args)
    print("[demo] evaluating retrieval ...", flush=True)
    retrieval = retrieval_rows(args, models["retriever"])
    print("[demo] proving on the replay environment ...", flush=True)
    proving = prove_rows(args, models)
    table = render(args, retrieval, proving, time.time() - start)
    from repro.atomic import atomic_write_text

    atomic_write_text(args.out / "results.md", table)
    print(table)
    print(f"-> {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
