"""``reprover retrieve-eval``: R@1 / R@10 / MRR of BM25 or a trained retriever on one split.

Writes ``{"R@1", "R@10", "MRR", "n"}`` (R@k in percent, MRR in [0, 1], n = tactics with a positive) to
``--output`` and the same as a markdown table to stdout and to ``<output without .json>.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ninerepro.atomic import atomic_write_text
from reprover.data.benchmark import STRATEGIES


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrieve-eval", help="premise retrieval R@1/R@10/MRR of bm25 or a retriever checkpoint")
    p.add_argument("--data", required=True, help="LeanDojo Benchmark directory (holds corpus.jsonl)")
    p.add_argument("--split", choices=STRATEGIES, default="random")
    p.add_argument("--subset", choices=("train", "val", "test"), default="test")
    p.add_argument("--retriever", required=True, help="'bm25' or a retriever checkpoint/export folder")
    p.add_argument("--num-retrieved", type=int, default=100, help="premises ranked per state (paper: 100)")
    p.add_argument("--all-premises", action="store_true",
                   help="ignore accessibility (the paper's 'w/ all premises' ablation)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--indexed-corpus", default=None, help="premise index saved by `reprover index`")
    p.add_argument("--output", required=True, help="results JSON path")
    p.set_defaults(func=run_retrieve_eval)

    q = sub.add_parser("index", help="embed every corpus premise once with a retriever and save the index "
                       "(--indexed-corpus of prove / retrieve-eval)")
    q.add_argument("--data", required=True, help="LeanDojo Benchmark directory (holds corpus.jsonl)")
    q.add_argument("--retriever", required=True, help="retriever: ours, or a Hugging Face folder / hub id")
    q.add_argument("--device", default="auto", help="auto, cpu or cuda")
    q.add_argument("--dtype", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="encoder weights; auto = bfloat16 on CUDA (embeddings are stored as float32)")
    q.add_argument("--batch-size", type=int, default=None, help="premises per forward pass (default: config's)")
    q.add_argument("--output", required=True, help="index folder to write (embeddings.npy + index.json)")
    q.set_defaults(func=run_index)


def run_index(args: argparse.Namespace) -> int:
    import time

    from reprover.data.benchmark import Benchmark
    from reprover.retrieval.saved_index import save_index

    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    corpus = Benchmark(args.data).corpus
    retriever = build_retriever(args.retriever, corpus, args.device, dtype=args.dtype, batch_size=args.batch_size)
    t0 = time.perf_counter()
    index = retriever.reindex()
    seconds = time.perf_counter() - t0
    out = save_index(args.output, index.embeddings, corpus,
                     {"retriever": str(args.retriever), "max_seq_len": retriever.max_seq_len, "seconds": seconds})
    print(f"embedded {len(corpus)} premises in {seconds:.1f} s ({len(corpus) / max(seconds, 1e-9):.0f}/s) -> {out}")
    return 0


def markdown_table(rows: list[tuple[str, dict]]) -> str:
    """One row per method: R@1 (%), R@10 (%), MRR, n."""
    lines = ["| method | R@1 (%) | R@10 (%) | MRR | n |", "|---|---|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | {m['R@1']:.1f} | {m['R@10']:.1f} | {m['MRR']:.3f} | {m['n']} |")
    return "\n".join(lines)


def build_retriever(spec: str, corpus, device: str = "auto", indexed_corpus: str | None = None, dtype: str = "auto",
                    batch_size: int | None = None):
    """'bm25' or a checkpoint path / HF folder / hub id -> a retriever over ``corpus``."""
    if spec == "bm25":
        from reprover.retrieval.retriever import BM25Retriever

        return BM25Retriever(corpus)
    import torch

    from reprover.retrieval.checkpoint import load_dense_retriever

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    from reprover.convert import is_hub_id

    if not Path(spec).exists() and not is_hub_id(spec):
        raise FileNotFoundError(f"--retriever {spec}: no such checkpoint; pass 'bm25', a retriever run/export "
                                "folder (train one with `python train.py retriever -c configs/...`) or a Hugging "
                                "Face folder / hub id such as kaiyuy/leandojo-lean4-retriever-byt5-small")
    return load_dense_retriever(spec, corpus, device=device, indexed_corpus=indexed_corpus, dtype=dtype,
                                batch_size=batch_size)


def run_retrieve_eval(args: argparse.Namespace) -> int:
    from ninerepro.train import CheckpointError
    from reprover.data.benchmark import Benchmark
    from reprover.retrieval.evaluate import evaluate_retrieval

    bench = Benchmark(args.data)
    theorems = bench.split(args.split, args.subset)
    try:
        retriever = build_retriever(args.retriever, bench.corpus, args.device, args.indexed_corpus)
    except (CheckpointError, ValueError) as err:
        raise FileNotFoundError(f"--retriever {args.retriever}: {err}") from None
    metrics = evaluate_retrieval(retriever, theorems, args.num_retrieved, accessible_only=not args.all_premises)
    out = Path(args.output)
    atomic_write_text(out, json.dumps(metrics, indent=1) + "\n")
    name = "BM25" if args.retriever == "bm25" else f"retriever {args.retriever}"
    table = markdown_table([(name, metrics)])
    atomic_write_text(out.with_suffix(".md"), f"{args.split}/{args.subset}\n\n{table}\n")
    print(f"{args.split}/{args.subset} ({args.data})\n{table}\n-> {out}")
    return 0
