"""One run from resolved settings: read data, pick demonstrations, run the stages, score, write the report.

Shared by the CLI and the demo. The run folder gets ``run.json`` (settings and inputs, so ``score`` can rescore
it), the stage JSONL files, ``scores.{md,json}`` and one guess file per output.

Inputs by name (``--data``): ``wow`` (``<data-dir>/wow/{train,test_seen,test_unseen}.tsv``, from
``make data-wow``), ``woi`` (``<data-dir>/woi/test.tsv`` with the WoW training set as database, as the paper)
and ``demo`` (this project's small WoW-format set in ``knowledge-dialogue/data/dialogues``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from knowledge_dialogue.config import RunConfig
from knowledge_dialogue.data import Sample, read_samples
from knowledge_dialogue.demos import Stage1Selector, select_stage2
from knowledge_dialogue.pipeline import STAGE_FILES, Pipeline, rows_hash
from knowledge_dialogue.report import score_run, write_report
from ninerepro.atomic import atomic_write_text
from ninerepro.lm import LMBackend, runs
from ninerepro.train.config import from_dict, to_dict

EMBEDDED = Path(__file__).resolve().parents[2] / "data" / "dialogues"
DATASETS = {"wow": ("test_seen", "test_unseen", "train"), "woi": ("test",), "demo": ("test_seen", "test_unseen")}


def input_files(data: str, split: str, data_dir: str | Path) -> tuple[Path, Path]:
    """(test file, training file) of a named dataset split."""
    if data not in DATASETS:
        raise ValueError(f"unknown --data {data!r}; choose one of {sorted(DATASETS)} or pass --test/--train")
    if split not in DATASETS[data]:
        raise ValueError(f"--data {data} has no split {split!r}; choose one of {list(DATASETS[data])}")
    if data == "demo":
        return EMBEDDED / f"{split}.json", EMBEDDED / "train.json"
    root = Path(data_dir)
    test = root / data / f"{split}.tsv"
    train = root / "wow" / "train.tsv"
    for p in (test, train):
        if not p.is_file():
            name = "wow" if p == train else data
            raise FileNotFoundError(f"{p}: no such file; run `make data-{name}` first, or pass --test/--train")
    return test, train


def seen_split(split: str) -> bool:
    """Whether the official ``data_type`` is ``wow_seen`` (it changes the stage-1 database filters)."""
    return split == "test_seen"


def prepare_demos(tests: list[Sample], train: list[Sample], cfg: RunConfig, *, seen: bool, cache_dir: Path | None,
                  device: str = "cpu", encoder=None):
    selector = Stage1Selector(train, cfg.demos1, seen=seen, cache_dir=cache_dir, device=device, encoder=encoder)
    return selector, selector.select(tests), select_stage2(train, cfg.demos2)


def run_pipeline(backend: LMBackend, model_id: str, cfg: RunConfig, tests: list[Sample], train: list[Sample],
                 out: Path, *, fresh: bool, seen: bool, device: str = "cpu", encoder=None) -> dict:
    """Both stages (and the baseline) on ``tests`` with demonstrations from ``train``; ``encoder`` (optional)
    is a ready sentence encoder for stage 1, so several runs in one process load it once."""
    if not tests:
        raise ValueError("the test set has no wizard turns to answer")
    if fresh:
        runs.remove_stages(out, STAGE_FILES)
    _, demos1, demos2 = prepare_demos(tests, train, cfg, seen=seen, cache_dir=out / "cache", device=device,
                                      encoder=encoder)
    pipe = Pipeline(backend, cfg, out, model_id, runs.token_counter(backend), fresh=fresh, tests_id=rows_hash(tests))
    knowledge = pipe.knowledge(tests, demos1)
    responses = pipe.responses(tests, knowledge, demos2)
    baseline = pipe.baseline(tests, demos2) if cfg.baseline else None
    return score_run(tests, knowledge, responses, baseline)


def execute(args: argparse.Namespace, cfg: RunConfig) -> int:
    from ninerepro.envinfo import describe

    out = Path(args.out)
    runs.check_out_dir(out, args.resume, args.fresh, STAGE_FILES)
    if args.test and not args.train:
        raise ValueError("--test needs --train (the demonstration database, e.g. data/wow/train.tsv)")
    test_path, train_path = (Path(args.test), Path(args.train)) if args.test else input_files(
        args.data, args.split, args.data_dir)
    tests = read_samples(test_path)[: args.limit]
    train = read_samples(train_path)
    seen = args.seen if args.seen is not None else seen_split(args.split)
    backend, model_id = runs.make_backend(args, cfg.batch_size)
    manifest = {"test": str(test_path.resolve()), "train": str(train_path.resolve()), "limit": args.limit,
                "seen": seen, "backend": args.backend, "model": model_id, "config": to_dict(cfg)}
    atomic_write_text(out / "run.json", json.dumps(manifest, indent=2) + "\n")
    result = run_pipeline(backend, model_id, cfg, tests, train, out, fresh=not args.resume, seen=seen,
                          device="cpu" if args.device == "auto" else args.device)
    dev = getattr(backend, "device", "cpu")
    paths = write_report(result, out, {**describe(str(dev)), "model": model_id, "test": str(test_path),
                                       "items": str(len(tests))})
    print(paths["md"].read_text(encoding="utf-8"))
    return 0


def rescore(run_dir: Path) -> int:
    manifest_path = run_dir / "run.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no such file; pass the --out folder of a `knowledge-dialogue run`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    cfg = from_dict(RunConfig, manifest["config"])
    tests = read_samples(manifest["test"])[: manifest.get("limit")]
    stores = [runs.read_store(run_dir / n) if (run_dir / n).is_file() else None for n in STAGE_FILES]
    for name, store in zip(STAGE_FILES, stores):
        if store is not None and len(store.missing(str(i) for i in range(len(tests)))):
            raise ValueError(f"{run_dir / name}: {len(store.missing(str(i) for i in range(len(tests))))} of "
                             f"{len(tests)} items missing; finish the run with `knowledge-dialogue run ... --resume`")
    result = score_run(tests, stores[0], stores[1], stores[2] if cfg.baseline else None)
    paths = write_report(result, run_dir, {"run": str(run_dir), "items": str(len(tests))})
    print(paths["md"].read_text(encoding="utf-8"))
    return 0
