"""One run from resolved settings: read data, pick demonstrations, run the stages, score, write the report.

Shared by the CLI and the demo. The run folder gets ``run.json`` (settings and input paths, so ``score`` can
rescore it later), the stage JSONL files, and ``em_by_k.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from closedbook_qa import datasets
from closedbook_qa.config import RunConfig
from closedbook_qa.data import QAItem, read_questions
from closedbook_qa.demos import select_demos
from closedbook_qa.pipeline import Pipeline
from closedbook_qa.report import score_run, write_report
from ninerepro.atomic import atomic_write_text
from ninerepro.lm import LMBackend, runs
from ninerepro.train.config import from_dict, to_dict

STAGE_FILES = ("stage1_contexts.jsonl", "stage2_answers.jsonl", "direct_answers.jsonl")


def resolve_inputs(args: argparse.Namespace) -> tuple[Path, Path]:
    questions = Path(args.questions) if args.questions else datasets.question_file(args.dataset, args.split,
                                                                                    args.data_dir)
    pool = Path(args.pool) if args.pool else datasets.pool_file(args.dataset, args.data_dir)
    return questions, pool


def check_out_dir(out: Path, resume: bool, fresh: bool) -> None:
    """A folder holding stage outputs is reused only when asked (``--resume``) or wiped (``--fresh``)."""
    runs.check_out_dir(out, resume, fresh, STAGE_FILES)


def make_backend(args: argparse.Namespace, cfg: RunConfig) -> tuple[LMBackend, str]:
    return runs.make_backend(args, cfg.batch_size)


def run_pipeline(backend: LMBackend, model_id: str, cfg: RunConfig, tests: list[QAItem], pool: list[QAItem],
                 out: Path, *, fresh: bool, device: str = "cpu") -> dict:
    if fresh:  # all stages at once, so a fresh run killed early leaves no older stage behind to resume from
        runs.remove_stages(out, STAGE_FILES)
    demos = select_demos(tests, pool, cfg.demos, cache_dir=out / "cache", device=device)
    pipe = Pipeline(backend, cfg, out, model_id, runs.token_counter(backend), fresh=fresh)
    direct = pipe.direct(tests, demos) if cfg.direct else None
    contexts = pipe.contexts(tests, demos)
    answers = pipe.answers(tests, demos, contexts)
    return score_run(tests, cfg.ks, contexts, answers, direct, official=cfg.official_cleaning,
                     weighting=cfg.weighting)


def execute(args: argparse.Namespace, cfg: RunConfig) -> int:
    from ninerepro.envinfo import describe

    out = Path(args.out)
    check_out_dir(out, args.resume, args.fresh)
    qpath, ppath = resolve_inputs(args)
    tests = read_questions(qpath)[: args.limit]
    pool = read_questions(ppath)
    backend, model_id = make_backend(args, cfg)
    manifest = {"questions": str(qpath.resolve()), "pool": str(ppath.resolve()), "limit": args.limit,
                "backend": args.backend, "model": model_id, "config": to_dict(cfg)}
    atomic_write_text(out / "run.json", json.dumps(manifest, indent=2) + "\n")
    result = run_pipeline(backend, model_id, cfg, tests, pool, out, fresh=not args.resume,
                          device="cpu" if args.device == "auto" else args.device)
    dev = getattr(backend, "device", "cpu")
    paths = write_report(result, out, {**describe(str(dev)), "model": model_id, "questions": str(len(tests))})
    print(paths["md"].read_text(encoding="utf-8"))
    return 0


def rescore(run_dir: Path, official: bool, weighting: str | None) -> int:
    manifest_path = run_dir / "run.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no such file; pass the --out folder of a `closedbook-qa run`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    cfg = from_dict(RunConfig, manifest["config"])
    tests = read_questions(manifest["questions"])[: manifest.get("limit")]
    stores = {}
    for name in STAGE_FILES:
        path = run_dir / name
        stores[name] = runs.read_store(path) if path.is_file() else None
    missing = [t.id for t in tests if stores["stage2_answers.jsonl"] is not None
               and f"{t.id}#{cfg.k - 1}" not in stores["stage2_answers.jsonl"]]
    if missing:
        raise ValueError(f"{run_dir}: {len(missing)} questions have no stage-2 answers yet (first: {missing[0]!r}); "
                         f"finish the run with `closedbook-qa run ... --resume`")
    result = score_run(tests, cfg.ks, stores["stage1_contexts.jsonl"], stores["stage2_answers.jsonl"],
                       stores["direct_answers.jsonl"], official=official or cfg.official_cleaning,
                       weighting=weighting or cfg.weighting)
    paths = write_report(result, run_dir, {"run": str(run_dir), "questions": str(len(tests))})
    print(paths["md"].read_text(encoding="utf-8"))
    return 0

