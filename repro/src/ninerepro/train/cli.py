"""The command line every subproject's ``train.py`` shares: ``-c CONFIG [--run-dir DIR] [key=value ...]``.

One parser means one habit for users across the nine papers, and overrides always go through the config
dataclass (unknown keys are errors), never through ad-hoc flags.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ninerepro.train.config import load_config

T = TypeVar("T")


@dataclass
class TrainArgs:
    config_path: Path | None
    overrides: list[str]
    run_dir: Path


def train_arg_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("-c", "--config", type=Path, help="JSON config (configs/*.json); defaults if omitted")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="run folder for checkpoints and logs; re-running with the same folder resumes "
                        "(default: runs/<config name>[+overrides])")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.optimizer.lr=1e-4")
    return p


def default_run_dir(config_path: str | Path | None, overrides: list[str], root: str | Path = "runs") -> Path:
    """``runs/<config name>[+key=value...]``: the folder name says what was run (ESPnet-style), so two
    runs that differ by an override never resume each other's checkpoints."""
    name = Path(config_path).stem if config_path else "default"
    if overrides:
        name += "+" + "+".join(re.sub(r"[^A-Za-z0-9_.=-]", "_", o) for o in overrides)
    return Path(root) / name[:200]


def parse_train_args(description: str, argv: list[str] | None = None) -> TrainArgs:
    args = train_arg_parser(description).parse_args(argv)
    run_dir = args.run_dir or default_run_dir(args.config, args.overrides)
    return TrainArgs(args.config, list(args.overrides), run_dir)


def load_run_config(cls: type[T], args: TrainArgs) -> T:
    """The config for this run: the JSON file plus overrides, validated by the dataclass."""
    return load_config(cls, args.config_path, args.overrides)


def train_main(prog: str, description: str, config_cls: type[T], run: Callable[[T, Path], Any],
               user_errors: Callable[[str, bool], AbstractContextManager], argv: list[str] | None = None) -> int:
    """The whole ``<paper>-train`` entry point: parse, load the config, train (resuming the run folder), and
    leave the process group; a bad config or file is one line with exit code 2 through ``user_errors``.

    ``run(cfg, run_dir)`` returns the trainer (``.env.is_main``, ``.state.step``)."""
    from ninerepro.train.distributed import close_distributed

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = train_arg_parser(description)
    p.prog = prog
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    args = p.parse_args(argv)
    with user_errors(prog, args.debug):
        cfg = load_config(config_cls, args.config, args.overrides)
        run_dir = args.run_dir or default_run_dir(args.config, args.overrides)
        try:
            trainer = run(cfg, run_dir)
            if trainer.env.is_main:
                print(f"trained to step {trainer.state.step}; checkpoints in {run_dir}")
        finally:
            close_distributed()
    return 0
