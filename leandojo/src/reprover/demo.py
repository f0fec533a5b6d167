"""``make demo-leandojo``: does retrieval help a prover with lemmas it never saw used? On CPU, fixed steps.

The paper's claim (Sec. 6, Tables 1-2): on ``novel_premises``, whose test theorems need premises no training
proof uses, ReProver with retrieval proves more than the same generator without it, and the trained dense
retriever ranks the needed premises higher than BM25 (R@10). The demo checks both on the toy rewriting
benchmark of :mod:`reprover.toy.bench` (LeanDojo Benchmark 4's format; 80 rewrite lemmas with look-alike
distractors, 600 theorems) whose environment, :mod:`reprover.toy.kernel`, checks any ``rw [NAME]`` tactic,
so a generator is credited for every correct proof, not only the recorded one. Lemma names are random
letters: a generator that has never seen a lemma used can only name it by reading it in its input.

Stages, each a fixed number of optimizer steps (so the numbers reproduce up to CPU floating point): generate
the benchmark (seed 0); train a tiny retriever; evaluate it and BM25 on the test split; train two tiny
generators, with and without retrieval; best-first search on the test split with the oracle and both
generators; print one table with the claim's verdict and write it to ``out/demo-leandojo/results.md``.

Deviations from ReProver's generator training, for the toy only, each so that a 2-layer model trained for
minutes on CPU can learn to copy a lemma name from its input at all (the README's copy probe and its history of
demo runs measure why): the generator reads ``--num-retrieved`` 1 premise (RP: as many as the byte budget
holds); premises are never dropped (``--p-drop`` 0; RP: 0.5); a training input whose retrieved premise is not
the gold one gets the gold one instead (``--insert-gold-premise`` 1; RP: 0); a training input's premise gets a
fresh random name, in the target too (``--rename-premises`` 1; RP: 0; a no-op without retrieval), so that
memorising which name follows which goal stops paying and copying is the only way to fit; and batches of 32
(``--generator-batch-size``; the config's 8). Both generators get the same values; without retrieval the input
holds no premise, so its generator can only name lemmas it saw used. At proof time the retrieval generator reads
the retriever's top-1 premise, so its Pass@1 is bounded by the retriever's R@1.

``--benchmark fixture`` runs the same pipeline on the 24-theorem fixture with the replay environment (the
end-to-end check it used to be). A rerun starts fresh; ``--resume`` reuses finished training runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from ninerepro.envinfo import describe

LEANDOJO = Path(__file__).resolve().parents[2]
FIXTURE = LEANDOJO / "tests" / "fixtures" / "leandojo_benchmark_4"
CLAIM = ("paper (Sec. 6): on novel_premises, retrieval-augmented ReProver proves more test theorems than the "
         "same generator without retrieval, and the dense retriever's R@10 is above BM25's")


def _repo_root() -> Path:
    return LEANDOJO.parent if (LEANDOJO.parent / "repro").is_dir() else Path.cwd()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--benchmark", choices=("toy", "fixture"), default="toy",
                   help="toy: generated rewriting benchmark + checking kernel (default); fixture: the test fixture "
                   "with the replay environment")
    p.add_argument("--split", default=None, choices=("random", "novel_premises"),
                   help="default: novel_premises for toy, random for fixture")
    p.add_argument("--out", type=Path, default=_repo_root() / "out" / "demo-leandojo")
    p.add_argument("--seed", type=int, default=0, help="toy benchmark seed")
    p.add_argument("--num-symbols", type=int, default=80, help="toy benchmark: rewrite lemmas (each with 3 "
                   "look-alike distractors)")
    p.add_argument("--num-retrieved", type=int, default=None,
                   help="premises put in the generator's input (default: 1 for toy, the config's 10 for fixture)")
    p.add_argument("--p-drop", type=float, default=None,
                   help="premise drop rate in generator training (default: 0 for toy, the config's 0.5 = RP's "
                   "for fixture)")
    p.add_argument("--rename-premises", type=float, default=None,
                   help="probability that a training input's retrieved premises get fresh random names, in the "
                   "target too (default: 1 for toy, 0 = RP's for fixture); see reprover.generation.augment and "
                   "README (copy probe)")
    p.add_argument("--insert-gold-premise", type=int, choices=(0, 1), default=None,
                   help="1: a training input whose retrieved premises miss the gold one gets it at a random rank "
                   "(default: 1 for toy, 0 = RP's for fixture); see reprover.generation.dataset.generator_examples")
    p.add_argument("--generator-batch-size", type=int, default=None,
                   help="default: 32 for toy, the config's 8 for fixture")
    p.add_argument("--retriever-steps", type=int, default=None, help="default: 500 (toy), 300 (fixture)")
    p.add_argument("--generator-steps", type=int, default=None, help="default: 1500 (toy), 400 (fixture)")
    p.add_argument("--num-sampled-tactics", type=int, default=8)
    p.add_argument("--max-expansions", type=int, default=None, help="default: 10 (toy), 50 (fixture)")
    p.add_argument("--subsets", nargs="+", default=None, choices=("train", "val", "test"),
                   help="subsets to prove (default: test for toy, test and train for fixture)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny matrices gain nothing from more)")
    p.add_argument("--resume", action="store_true", help="reuse finished training runs under --out")
    args = p.parse_args(argv)
    toy = args.benchmark == "toy"
    args.split = args.split or ("novel_premises" if toy else "random")
    args.retriever_steps = args.retriever_steps or (500 if toy else 300)
    args.generator_steps = args.generator_steps or (1500 if toy else 400)
    args.num_retrieved = args.num_retrieved or (1 if toy else 10)
    args.p_drop = args.p_drop if args.p_drop is not None else (0.0 if toy else 0.5)
    args.rename_premises = args.rename_premises if args.rename_premises is not None else (1.0 if toy else 0.0)
    if args.insert_gold_premise is None:
        args.insert_gold_premise = 1 if toy else 0
    args.insert_gold_premise = bool(args.insert_gold_premise)
    args.generator_batch_size = args.generator_batch_size or (32 if toy else 8)
    args.max_expansions = args.max_expansions or (10 if toy else 50)
    args.subsets = args.subsets or (["test"] if toy else ["test", "train"])
    return args


def prepare_data(args: argparse.Namespace) -> tuple[Path, str, dict]:
    """(benchmark root, environment kind, environment options)."""
    if args.benchmark == "fixture":
        return FIXTURE, "replay", {}
    from reprover.toy.bench import generate

    data = generate(args.out / "benchmark", seed=args.seed, num_symbols=args.num_symbols)
    return data, "rewrite", {"data": str(data)}


def train_models(args: argparse.Namespace, data: Path) -> dict[str, Path]:
    from ninerepro.train import load_config
    from reprover.generation.config import GeneratorRunConfig
    from reprover.retrieval.config import RetrieverRunConfig
    from reprover.training.generator import train_generator
    from reprover.training.retriever import train_retriever

    common = [f"data.data_path={data}", f"data.split={args.split}"]
    rcfg = load_config(RetrieverRunConfig, LEANDOJO / "configs" / "retriever_tiny.json",
                       [*common, f"train.max_steps={args.retriever_steps}"])
    print(f"[demo] retriever: {args.retriever_steps} steps", flush=True)
    retriever = train_retriever(rcfg, args.out / "retriever")
    gen = {}
    for name, ret in (("generator_no_retrieval", None), ("generator_retrieval", retriever)):
        gcfg = load_config(GeneratorRunConfig, LEANDOJO / "configs" / "generator_tiny.json",
                           [*common, f"train.max_steps={args.generator_steps}",
                            f"data.num_retrieved={args.num_retrieved}", f"data.p_drop={args.p_drop}",
                            f"data.rename_premises={args.rename_premises}",
                            f"data.insert_gold_premise={'true' if args.insert_gold_premise else 'false'}",
                            f"data.batch_size={args.generator_batch_size}",
                            f"data.retriever={'null' if ret is None else ret}"])
        print(f"[demo] {name}: {args.generator_steps} steps", flush=True)
        gen[name] = train_generator(gcfg, args.out / name)
    return {"retriever": retriever, **gen}


def retrieval_rows(args: argparse.Namespace, data: Path, retriever: Path) -> list[tuple[str, dict]]:
    from reprover.data.benchmark import Benchmark
    from reprover.retrieval.checkpoint import load_dense_retriever
    from reprover.retrieval.evaluate import evaluate_retrieval
    from reprover.retrieval.retriever import BM25Retriever

    bench = Benchmark(data)
    test = bench.split(args.split, "test")
    ours = load_dense_retriever(retriever, bench.corpus)
    return [("BM25", evaluate_retrieval(BM25Retriever(bench.corpus), test)),
            ("ours (tiny dual encoder)", evaluate_retrieval(ours, test))]


ORACLE, WITH, WITHOUT = "oracle (recorded tactics)", "ours with retrieval", "ours without retrieval"


def prove_rows(args: argparse.Namespace, data: Path, env: str, env_options: dict,
               models: dict[str, Path]) -> list[tuple[str, str, dict]]:
    from reprover.data.benchmark import Benchmark
    from reprover.search.best_first import SearchConfig
    from reprover.search.evaluate import summarize
    from reprover.search.parallel import prove_all
    from reprover.search.prover import ProverSpec

    search = SearchConfig(timeout=60.0, max_expansions=args.max_expansions,
                          num_sampled_tactics=args.num_sampled_tactics)
    methods = [(ORACLE, "oracle", None),
               (WITH, str(models["generator_retrieval"]), str(models["retriever"])),
               (WITHOUT, str(models["generator_no_retrieval"]), None)]
    rows = []
    for subset in args.subsets:
        theorems = Benchmark(data).split(args.split, subset)
        for name, gen, ret in methods:
            print(f"[demo] proving {args.split}/{subset} ({len(theorems)} theorems): {name}", flush=True)
            spec = ProverSpec(str(data), args.split, subset, env, gen, ret, search, env_options=env_options)
            rows.append((name, subset, summarize(prove_all(spec, theorems, 1), {})))
    return rows


def verdict(retrieval: list[tuple[str, dict]], proving: list[tuple[str, str, dict]]) -> list[str]:
    """The claim's two parts, each "held" or "did not hold", from the measured rows (test subset)."""
    r10 = {name: m["R@10"] for name, m in retrieval}
    ours_r10 = next(v for k, v in r10.items() if k != "BM25")
    p1 = {name: s["pass@1"] for name, subset, s in proving if subset == "test"}
    with_, without = p1.get(WITH), p1.get(WITHOUT)
    lines = [f"Claim ({CLAIM}):"]
    if with_ is None or without is None:
        lines.append("- Pass@1 with vs without retrieval: not measured (no test theorem could be opened)")
    else:
        held = "held" if with_ > without else "did not hold"
        lines.append(f"- Pass@1 with retrieval {100 * with_:.1f} % vs without {100 * without:.1f} %: **{held}**")
    held = "held" if ours_r10 > r10["BM25"] else "did not hold"
    lines.append(f"- R@10 ours {ours_r10:.1f} % vs BM25 {r10['BM25']:.1f} %: **{held}**")
    return lines


def render(args: argparse.Namespace, retrieval: list, proving: list, wall: float) -> str:
    from reprover.retrieval.cli import markdown_table

    env = "rewriting kernel (`--env rewrite`)" if args.benchmark == "toy" else "replay environment"
    lines = [f"## ReProver demo on the {args.benchmark} benchmark ({args.split} split)", "",
             "Premise retrieval, test subset (tactics with >= 1 positive premise; 100 retrieved):", "",
             markdown_table(retrieval), "",
             f"Proof search on the {env} (best-first, {args.num_sampled_tactics} tactics per "
             f"expansion, <= {args.max_expansions} expansions, 60 s per theorem); discarded theorems are outside "
             "Pass@1:", "",
             "| generator | subset | Pass@1 (%) | proved / total |", "|---|---|---|---|"]
    for name, subset, s in proving:
        score = "n/a" if s["pass@1"] is None else f"{100 * s['pass@1']:.1f}"
        lines.append(f"| {name} | {subset} | {score} | {s['proved']} / {s['total']} |")
    if any(subset == "test" for _, subset, _ in proving):
        lines += ["", *verdict(retrieval, proving)]
    lines += ["", _environment(args, wall)]
    return "\n".join(lines) + "\n"


def _environment(args: argparse.Namespace, wall: float) -> str:
    env = describe("cpu")
    return (f"Measured {env['date']}, git {env['git']}, torch {env['torch']}, CPU {env['device']}, load "
            f"{env['load']}, configs/retriever_tiny.json ({args.retriever_steps} steps) + "
            f"configs/generator_tiny.json ({args.generator_steps} steps each, {args.num_retrieved} premises in the "
            f"input, p_drop {args.p_drop}, batch {args.generator_batch_size}, rename_premises "
            f"{args.rename_premises}, insert_gold_premise {int(args.insert_gold_premise)}), wall time {wall:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    import logging

    import torch

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    if not args.resume and args.out.exists():
        shutil.rmtree(args.out)
    start = time.time()
    data, env, env_options = prepare_data(args)
    print(f"[demo] {args.benchmark} benchmark at {data}; training tiny retriever + generators into {args.out}",
          flush=True)
    models = train_models(args, data)
    print(f"[demo] trained in {time.time() - start:.0f} s; evaluating retrieval ...", flush=True)
    retrieval = retrieval_rows(args, data, models["retriever"])
    t_prove = time.time()
    proving = prove_rows(args, data, env, env_options, models)
    print(f"[demo] proved in {time.time() - t_prove:.0f} s", flush=True)
    table = render(args, retrieval, proving, time.time() - start)
    from ninerepro.atomic import atomic_write_text

    atomic_write_text(args.out / "results.md", table)
    print(table)
    print(f"-> {args.out / 'results.md'} ({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
