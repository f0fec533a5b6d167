"""The `upcycle` console script: prepare token files, upcycle our checkpoints, run the experiments, convert
Hugging Face checkpoints, and move checkpoints to and from Megatron-LM.

Subcommands are registered by small ``add_*_parser`` functions so each lives beside its implementation;
heavy imports (torch, transformers) happen only inside the chosen command. Refusals (bad values, missing
or occupied files) end in one ``upcycle <command>: error: ...`` line and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from upcycling.config import ROUTER_SPELLINGS
from upcycling.hf.cli import add_convert_parser
from upcycling.megatron.cli import add_megatron_parsers


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="tokenise text into a memory-mapped token file + JSON meta")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text-dir", help="folder searched recursively for --glob files (sorted)")
    src.add_argument("--files", nargs="+", help="explicit text files, in this order")
    src.add_argument("--stdlib", action="store_true", help="the running Python's standard library sources")
    p.add_argument("--glob", default="*.txt", help="file pattern under --text-dir (default *.txt)")
    p.add_argument("--out", required=True, help="token file to write, e.g. data/stdlib/tokens.bin")
    p.add_argument("--tokenizer", default="byte", help="'byte' or a local Hugging Face tokenizer folder")
    p.add_argument("--val-fraction", type=float, default=0.01, help="share of documents held out (default 0.01)")
    p.add_argument("--max-bytes", type=int, default=0, help="stop after this many input bytes (0 = all)")
    p.set_defaults(func=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> int:
    from upcycling import prepare

    if args.stdlib:
        files = prepare.stdlib_files()
    elif args.text_dir:
        files = prepare.list_text_files(args.text_dir, args.glob)
    else:
        files = list(args.files)
    meta = prepare.prepare_tokens(files, args.out, tokenizer=args.tokenizer, val_fraction=args.val_fraction,
                                  max_bytes=args.max_bytes)
    print(f"wrote {args.out}: {meta['train_tokens']} train + {meta['val_tokens']} val tokens "
          f"({meta['dtype']}, vocab {meta['vocab_size']}, {meta['n_documents']} documents)")
    return 0


def _add_upcycle(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upcycle", help="turn a dense checkpoint (ours or an HF folder) into an MoE checkpoint (.pt)")
    p.add_argument("--dense", required=True,
                   help="our dense checkpoint (.pt written by train.py) or an HF Llama/Nemotron model folder")
    p.add_argument("--out", required=True, help="MoE checkpoint to write (.pt); train.py --init-from takes it")
    p.add_argument("--moe", required=True, help="paper notation, e.g. E8G1T2 or E8G8T8")
    p.add_argument("--router", choices=sorted(ROUTER_SPELLINGS), default="softmax_topk",
                   help="softmax_topk (the paper's, Megatron --moe-router-pre-softmax) or topk_softmax")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--no-weight-scaling", action="store_true")
    p.add_argument("--glu-scaling", choices=["paper", "exact"], default="paper",
                   help="SwiGLU only. paper: s^(1/3) on gate, up, down; exact: s^(1/2) on up and down (dense-equal)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random router rows")
    p.set_defaults(func=_run_upcycle)


def _run_upcycle(args: argparse.Namespace) -> int:
    from upcycling.checkpoints import upcycle_checkpoint_file

    report = upcycle_checkpoint_file(args.dense, args.out, args.moe, router_order=ROUTER_SPELLINGS[args.router],
                                     weight_scaling=not args.no_weight_scaling, seed=args.seed,
                                     glu_scaling=args.glu_scaling, overwrite=args.overwrite)
    print(report)
    return 0


def _add_experiments(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiments", help="run the paper's ablations at small scale (make reproduce/demo)")
    p.add_argument("--suite", choices=["demo", "full", "options"], default="demo",
                   help="demo = (a); full = (a)-(d); options = (e)-(g): shared expert, MoE layer freq, expert bias")
    p.add_argument("--out", default="out/upcycling", help="results folder (table, curves, runs)")
    p.add_argument("--data", default="data/upcycling/stdlib.bin", help="token file (prepared if missing)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--config", default=None, help="pretraining config (default configs/experiments.json)")
    p.add_argument("--jobs", type=int, default=2, help="continuation arms trained at the same time")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--seeds", type=int, default=1, help="continuation seeds per arm (table: mean ± std)")
    p.set_defaults(func=_run_experiments)


def _run_experiments(args: argparse.Namespace) -> int:
    from upcycling.experiments import run_suite

    table = run_suite(args.suite, out_dir=args.out, data_path=args.data, device=args.device, jobs=args.jobs,
                      threads=args.threads, seeds=args.seeds, **({"config": args.config} if args.config else {}))
    print(table)
    return 0


def _add_mmlu(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mmlu", help="k-shot MMLU accuracy of one of our checkpoints or an HF folder (Table 1)")
    p.add_argument("--model", required=True, help="our checkpoint (.pt) or a Hugging Face model folder")
    p.add_argument("--data", required=True, help="the unpacked official MMLU data folder (holding dev/ and test/)")
    p.add_argument("--shots", type=int, default=5, help="few-shot examples from dev/ (paper: 5)")
    p.add_argument("--split", choices=["test", "val"], default="test")
    p.add_argument("--subjects", nargs="*", help="only these subjects (default: all 57)")
    p.add_argument("--limit", type=int, default=0, help="questions per subject (0 = all)")
    p.add_argument("--tokenizer", default="byte", help="for our checkpoints: 'byte' or the local HF tokenizer folder")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="also write the result as JSON")
    p.set_defaults(func=_run_mmlu)


def _run_mmlu(args: argparse.Namespace) -> int:
    import time

    from upcycling.eval.mmlu import data_root, evaluate, write_result
    from upcycling.eval.scorers import load_scorer

    data_root(args.data)  # refuse a wrong folder before loading the model
    if not 0 <= args.shots <= 5:
        raise ValueError(f"--shots {args.shots}: the official dev split has 5 examples per subject; use 0-5")
    start = time.perf_counter()
    scorer = load_scorer(args.model, args.tokenizer, args.device)
    result = evaluate(scorer, args.data, shots=args.shots, split=args.split, only=args.subjects, limit=args.limit,
                      progress=lambda name, acc: print(f"  {name}: {acc:.1%}"))
    print(f"MMLU {args.shots}-shot ({args.split}): {result.accuracy:.2%} over {result.n_questions} questions, "
          f"{len(result.per_subject)} subjects; {result.reduced_shots} prompts shortened to fit the context; "
          f"{time.perf_counter() - start:.0f} s")
    if args.out:
        write_result(result, args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upcycle", description="Dense → MoE upcycling toolkit (He et al. 2024).")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_prepare(sub)
    _add_upcycle(sub)
    _add_experiments(sub)
    _add_mmlu(sub)
    add_convert_parser(sub)
    add_megatron_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, OSError, RuntimeError) as e:  # OSError: missing, occupied or unwritable paths
        message = e.args[0] if isinstance(e, KeyError) and e.args else e  # KeyError's str() adds quotes
        print(f"upcycle {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
