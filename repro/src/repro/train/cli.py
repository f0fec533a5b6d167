"""The command line every subproject's ``train.py`` shares: ``-c CONFIG [--run-dir DIR] [key=value ...]``.

One parser means one habit for users across the nine papers, and overrides always go through the config
dataclass (unknown keys are errors), never through ad-hoc flags.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from repro.train.config import load_config

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
