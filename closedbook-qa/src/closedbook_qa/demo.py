"""``make demo-closedbook-qa``: direct prompting vs CGAP on the embedded general-knowledge set, on CPU.

Fixed sizes (never a time budget): the first ``--questions`` of ``data/gk/test.qa.csv`` (written for this
project: 245 questions with answers and short passages, DPR format), the other 184 as the demonstration pool,
the embedded SmolLM2-135M-Instruct, the official CGAP settings with k = 8. Prints the EM table for direct
prompting and CGAP at k = 1, 2, 4, 8 (vote and weighted), the environment and the wall time. A rerun starts
fresh unless ``--resume`` is given.

``--threads`` defaults to 1: on a machine shared with other jobs, two-thread GEMMs stall on the slower thread
(measured here: a 369-token prefill took 0.96 s on one thread and 4.9 s on two under a load of 4).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from closedbook_qa.config import RunConfig
from closedbook_qa.data import read_questions
from closedbook_qa.datasets import EMBEDDED
from closedbook_qa.report import write_report
from closedbook_qa.runner import check_out_dir, run_pipeline

VERDICT = {True: "context generation HELPS at this size", False: "context generation does NOT help at this size"}


def verdict(rows: list[dict]) -> str:
    """Compares the best CGAP row at the largest k with direct prompting."""
    direct = next(r["EM"] for r in rows if r["k"] == 0)
    top_k = max(r["k"] for r in rows)
    best = max(r["EM"] for r in rows if r["k"] == top_k)
    return f"{VERDICT[best > direct]}: best CGAP@{top_k} {best:.1f} vs direct {direct:.1f} EM"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/demo-closedbook-qa")
    p.add_argument("--questions", type=int, default=40, help="first N test questions (fixed, not timed)")
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="keep finished items of a previous demo run")
    args = p.parse_args(argv)
    import torch

    from repro.envinfo import describe
    from repro.lm import build_backend

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    out = Path(args.out)
    check_out_dir(out, args.resume, fresh=not args.resume)
    tests = read_questions(EMBEDDED / "gk" / "test.qa.csv")[: args.questions]
    pool = read_questions(EMBEDDED / "gk" / "train.json")
    cfg = RunConfig(k=args.k, ks=sorted({x for x in (1, 2, 4, 8) if x <= args.k} | {args.k}), batch_size=args.k)
    backend = build_backend("hf", None, device="cpu", batch_size=args.k)
    result = run_pipeline(backend, "embedded:SmolLM2-135M-Instruct.Q4_1", cfg, tests, pool, out,
                          fresh=not args.resume)
    seconds = time.perf_counter() - start
    header = {**describe("cpu"), "model": "SmolLM2-135M-Instruct (GGUF Q4_1, embedded)",
              "questions": f"{len(tests)} (gk test), pool {len(pool)}", "k": str(args.k),
              "wall time": f"{seconds:.0f} s", "verdict": verdict(result["rows"])}
    paths = write_report(result, out, header)
    print(paths["md"].read_text(encoding="utf-8"))
    print(f"figure: {paths.get('png')}\ntime taken: {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
