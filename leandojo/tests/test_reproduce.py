"""reproduce.sh calls real entry points: its dry run is parsed by the same parsers and config loader it feeds.

Every stage's command is checked against what it invokes: ``reprover.cli`` and ``reprover.data.download`` flags
through their argparse parsers, ``train.py`` through ``ninerepro.train.cli`` with each config file loaded and every
``key=value`` override applied by ``ninerepro.train.load_config`` (unknown keys are errors). The paths that join the
stages (benchmark folder, retriever and generator exports) must agree, and the official configs must point at
the folder ``make data-leandojo`` fills.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from ninerepro.train import load_config
from ninerepro.train.cli import load_run_config, parse_train_args
from reprover.cli import build_parser as reprover_parser
from reprover.data.download import MEMBER
from reprover.data.download import build_parser as download_parser
from reprover.generation.config import GeneratorRunConfig
from reprover.retrieval.config import RetrieverRunConfig

LEANDOJO = Path(__file__).parents[1]
REPO = LEANDOJO.parent
CONFIG_CLASSES = {"retriever": RetrieverRunConfig, "generator": GeneratorRunConfig}
OFFICIAL = {"retriever_byt5_small.json": RetrieverRunConfig, "generator_byt5_small.json": GeneratorRunConfig}


def dry_run(tmp_path: Path, *args: str, **env: str) -> list[list[str]]:
    """The commands ``DRY_RUN=1 bash reproduce.sh`` prints (lines "+ cmd ..."), run from an unrelated folder."""
    full_env = {**os.environ, "DRY_RUN": "1", "GPUS": "0", "PY": "python", **env}
    out = subprocess.run(["bash", str(LEANDOJO / "reproduce.sh"), *args], env=full_env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [shlex.split(line[2:]) for line in out.stdout.splitlines() if line.startswith("+ ")]


def train_part(cmd: list[str]) -> tuple[str, list[str]] | None:
    """(retriever|generator, its arguments) when ``cmd`` runs train.py (directly or under torchrun)."""
    if "train.py" not in cmd:
        return None
    i = cmd.index("train.py")
    return cmd[i + 1], cmd[i + 2:]


def module_args(cmd: list[str], module: str) -> list[str] | None:
    return cmd[3:] if cmd[1:3] == ["-m", module] else None


def check_command(cmd: list[str]) -> tuple[str, object]:
    """Parse one printed command exactly as its entry point would; returns (kind, parsed)."""
    if (part := train_part(cmd)) is not None:
        name, rest = part
        spec = importlib.util.spec_from_file_location("leandojo_train", LEANDOJO / "train.py")
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
        assert name in train.PARTS
        args = parse_train_args("test", rest)
        args.config_path = LEANDOJO / args.config_path  # the script runs from leandojo/
        assert args.config_path.is_file(), f"{args.config_path} does not exist"
        return f"train-{name}", (args, load_run_config(CONFIG_CLASSES[name], args))
    if (rest := module_args(cmd, "reprover.data.download")) is not None:
        return "download", download_parser().parse_args(rest)
    if (rest := module_args(cmd, "reprover.cli")) is not None:
        parsed = reprover_parser().parse_args(rest)
        return parsed.command, parsed
    raise AssertionError(f"reproduce.sh runs something unknown: {shlex.join(cmd)}")


def test_every_stage_runs_a_real_entry_point_with_real_configs_flags_and_config_keys(tmp_path):
    commands = [check_command(c) for c in dry_run(tmp_path)]
    kinds = [k for k, _ in commands]
    assert kinds == ["download", "check-data", "train-retriever", "retrieve-eval", "retrieve-eval",
                     "train-generator", "prove", "train-generator", "prove"]
    for kind, parsed in commands:
        if kind.startswith("train-"):
            args, cfg = parsed
            assert args.config_path.parent == LEANDOJO / "configs" and args.config_path.name in OFFICIAL
            assert cfg.data.split == "random"


def test_the_stages_hand_each_other_the_same_benchmark_and_model_folders(tmp_path):
    commands = [check_command(c) for c in dry_run(tmp_path, SPLIT="novel_premises")]
    by_kind: dict[str, list] = {}
    for kind, parsed in commands:
        by_kind.setdefault(kind, []).append(parsed)
    bench = str(Path(by_kind["download"][0].root) / MEMBER)
    (ret_args, ret_cfg), (gen_args, gen_cfg), (noret_args, noret_cfg) = by_kind["train-retriever"] + \
        by_kind["train-generator"]
    retriever, generator = str(ret_args.run_dir / "best"), str(gen_args.run_dir / "best")
    assert by_kind["check-data"][0].data == bench
    assert ret_cfg.data.data_path == gen_cfg.data.data_path == noret_cfg.data.data_path == bench
    assert ret_cfg.data.split == gen_cfg.data.split == noret_cfg.data.split == "novel_premises"
    assert gen_cfg.data.retriever == retriever and noret_cfg.data.retriever is None
    bm25, ours = by_kind["retrieve-eval"]
    assert bm25.retriever == "bm25" and ours.retriever == retriever
    with_ret, without = by_kind["prove"]
    assert with_ret.generator == generator and with_ret.retriever == retriever and with_ret.env == "lean"
    assert without.generator == str(noret_args.run_dir / "best") and without.retriever is None
    for p in (bm25, ours, with_ret, without):
        assert p.data == bench and p.split == "novel_premises" and p.subset == "test"
    outputs = [p.output for p in (bm25, ours, with_ret, without)]
    assert len(set(outputs)) == len(outputs)


def test_stage_selection_and_multi_gpu_training_under_torchrun(tmp_path):
    only3 = dry_run(tmp_path, "--stage", "3", "--stop-stage", "3", GPUS="2")
    assert len(only3) == 1 and check_command(only3[0])[0] == "train-retriever"
    assert only3[0][1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def test_a_dry_run_writes_nothing(tmp_path):
    runs = tmp_path / "runs"
    dry_run(tmp_path, RUNS=str(runs), DATA=str(tmp_path / "data"))
    assert not runs.exists() and not (tmp_path / "data").exists() and not list(tmp_path.iterdir())


def test_help_prints_the_usage_from_any_folder(tmp_path):
    out = subprocess.run(["bash", str(LEANDOJO / "reproduce.sh"), "--help"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--stop-stage" in out.stdout and "DRY_RUN=1" in out.stdout


def test_an_unknown_option_is_refused(tmp_path):
    out = subprocess.run(["bash", str(LEANDOJO / "reproduce.sh"), "--stages", "3"], cwd=tmp_path,
                         env={**os.environ, "DRY_RUN": "1"}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--stage N" in out.stderr


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_configs_read_the_release_where_make_data_leandojo_puts_it(name):
    """`make data-leandojo` runs the downloader from the repo root; train.py runs from leandojo/."""
    recipe = re.search(r"^data-leandojo:.*\n\t(.+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert recipe is not None, "the top-level Makefile has no data-leandojo target"
    root = download_parser().parse_args(shlex.split(recipe.group(1))[3:]).root
    release = (REPO / root / MEMBER).resolve()
    cfg = load_config(OFFICIAL[name], LEANDOJO / "configs" / name, [])
    assert (LEANDOJO / cfg.data.data_path).resolve() == release
    default = OFFICIAL[name]().data.data_path  # the dataclass default agrees too
    assert (LEANDOJO / default).resolve() == release
    make_data = re.search(r"^DATA \?= (\S+)$", (LEANDOJO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert (LEANDOJO / make_data.group(1) / MEMBER).resolve() == release
