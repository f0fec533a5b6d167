"""``closedbook-qa run`` (generate stages, score, report) and ``closedbook-qa score`` (rescore a finished run).

User mistakes (a malformed question file, an empty gold list, a path that is not a model, a server that is
down, k = 0, an output folder from other settings) print one ``error:`` line naming the file and the fix and
exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from repro.data.filelists import DataFormatError
from repro.lm import LMError, StoreMismatch
from repro.lm.embedded import EmbeddedModelMissing
from repro.train.config import ConfigError

USER_ERRORS = (DataFormatError, LMError, StoreMismatch, EmbeddedModelMissing, ConfigError, FileNotFoundError,
               FileExistsError, ValueError)
HERE = Path(__file__).resolve().parents[2]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    p.add_argument("-v", "--verbose", action="store_true")


def add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="generate contexts and answers, write stage JSONL, EM-by-k table and curve")
    p.add_argument("--dataset", default="gk", help="nq | tqa | webq | gk (the embedded set)")
    p.add_argument("--split", default="test")
    p.add_argument("--data-dir", default="data", help="where `make data-<name>` put the datasets")
    p.add_argument("--questions", default=None, help="question file instead of --dataset (DPR csv, FiD/DPR json)")
    p.add_argument("--pool", default=None, help="demonstration pool file instead of the dataset's train.json")
    p.add_argument("--limit", type=int, default=None, help="first N questions only")
    p.add_argument("--backend", choices=("hf", "vllm", "openai"), default="hf")
    p.add_argument("--model", default=None, help="hf: model folder or .gguf (default: embedded SmolLM2-135M); "
                                                  "vllm: model path; openai: the served model name")
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="openai backend: server address")
    p.add_argument("--timeout", type=float, default=120.0, help="openai backend: seconds per request")
    p.add_argument("--retries", type=int, default=3, help="openai backend: retries (backoff 1, 2, 4 ... s)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--k", type=int, default=None, help="contexts per question (default: the config's, 8)")
    p.add_argument("-c", "--config", default=None, help="configs/*.json (default: the official values)")
    p.add_argument("--official-cleaning", action="store_true",
                   help="strip answer labels anywhere in the line, as the official readers (NBA: -> NB)")
    p.add_argument("--out", required=True, help="run folder for the stage JSONL files and the report")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (finished items are kept)")
    p.add_argument("--fresh", action="store_true", help="delete the stage outputs in --out and start over")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. stage1.top_p=0.95")
    _common(p)
    p.set_defaults(func=run)


def add_score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="rescore the stage outputs of a finished run (no generation)")
    p.add_argument("--run", required=True, help="run folder written by `closedbook-qa run`")
    p.add_argument("--official-cleaning", action="store_true")
    p.add_argument("--weighting", choices=("mean", "sum", "uniform"), default=None)
    _common(p)
    p.set_defaults(func=score)


def load_run_config(args: argparse.Namespace):
    from closedbook_qa.config import RunConfig
    from repro.train.config import load_config

    overrides = list(args.overrides)
    if args.k is not None:
        overrides.append(f"k={args.k}")
        if not any(o.startswith("ks=") for o in overrides):
            overrides.append("ks=" + json.dumps(sorted({x for x in (1, 2, 4, 8, 16, 32, 64) if x <= args.k}
                                                       | {args.k})) if args.k >= 1 else "ks=[]")
    if args.official_cleaning:
        overrides.append("official_cleaning=true")
    return load_config(RunConfig, args.config, overrides)


def run(args: argparse.Namespace) -> int:
    from closedbook_qa.runner import execute

    cfg = load_run_config(args)
    return execute(args, cfg)


def score(args: argparse.Namespace) -> int:
    from closedbook_qa.runner import rescore

    return rescore(Path(args.run), args.official_cleaning, args.weighting)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closedbook-qa", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_run(sub)
    add_score(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    start = time.perf_counter()
    try:
        code = int(args.func(args) or 0)
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
