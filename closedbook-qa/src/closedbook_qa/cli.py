"""``closedbook-qa run`` (generate stages, score, report) and ``closedbook-qa score`` (rescore a finished run).

User mistakes (a malformed question file, an empty gold list, a path that is not a model, a server that is
down, k = 0, an output folder from other settings) print one ``error:`` line naming the file and the fix and
exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ninerepro.lm.cli import USER_ERRORS, add_backend_args, run_command
from ninerepro.lm.cli import add_common as _common

__all__ = ["USER_ERRORS", "build_parser", "main"]
HERE = Path(__file__).resolve().parents[2]


def add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="generate contexts and answers, write stage JSONL, EM-by-k table and curve")
    p.add_argument("--dataset", default="gk", help="nq | tqa | webq | gk (the embedded set)")
    p.add_argument("--split", default="test")
    p.add_argument("--data-dir", default="data", help="where `make data-<name>` put the datasets")
    p.add_argument("--questions", default=None, help="question file instead of --dataset (DPR csv, FiD/DPR json)")
    p.add_argument("--pool", default=None, help="demonstration pool file instead of the dataset's train.json")
    p.add_argument("--limit", type=int, default=None, help="first N questions only")
    add_backend_args(p)
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
    from ninerepro.train.config import load_config

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
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
