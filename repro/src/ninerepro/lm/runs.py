"""What every prompting pipeline's run does around the model: output folders, backends, resumable stage jobs.

Shared by CGAP (closed-book QA) and MSDP (knowledge dialogue):

- :func:`check_out_dir`: a folder holding stage outputs is reused only with ``--resume`` or wiped with ``--fresh``.
- :func:`make_backend`: the ``--backend/--model/--base-url/...`` arguments (:func:`ninerepro.lm.cli.add_backend_args`)
  turned into a backend and the model id recorded in store fingerprints.
- :func:`run_jobs`: generate the ``(key, prompt, seed)`` jobs a :class:`~ninerepro.lm.JsonlStore` lacks, a batch at
  a time, appending each record as its batch returns (a killed run loses at most one batch).
- :func:`fit_demos`: drop the least similar demonstrations until a prompt fits the context window.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ninerepro.lm.backend import LMBackend, build_backend
from ninerepro.lm.jsonl_store import JsonlStore
from ninerepro.lm.types import Generation, Sampling

log = logging.getLogger(__name__)
T = TypeVar("T")
TokenCounter = Callable[[str], int]
EMBEDDED_ID = "embedded:SmolLM2-135M-Instruct.Q4_1"


def check_out_dir(out: Path, resume: bool, fresh: bool, stage_files: Sequence[str]) -> None:
    """Refuse to overwrite or silently extend a run folder: one of ``resume``/``fresh`` must say which."""
    if resume and fresh:
        raise ValueError("--resume and --fresh contradict each other; pass one")
    if not resume and not fresh and any((Path(out) / f).is_file() for f in stage_files):
        raise FileExistsError(f"{out} already holds stage outputs; pass --resume to continue that run or "
                              f"--fresh to start over")


def remove_stages(out: Path, stage_files: Sequence[str]) -> None:
    """Delete every stage file and its fingerprint, so a fresh run killed early leaves no older stage behind."""
    for name in stage_files:
        for path in (Path(out) / name, Path(out) / f"{name}.meta.json"):
            path.unlink(missing_ok=True)


def make_backend(args: argparse.Namespace, batch_size: int) -> tuple[LMBackend, str]:
    """(backend, model id) from the arguments :func:`ninerepro.lm.cli.add_backend_args` defines."""
    if args.backend == "hf":
        backend = build_backend("hf", args.model, device=args.device, batch_size=batch_size)
        return backend, str(args.model or EMBEDDED_ID)
    if args.backend == "openai":
        backend = build_backend("openai", args.model, base_url=args.base_url, timeout_s=args.timeout,
                                retries=args.retries)
        return backend, str(args.model)
    return build_backend("vllm", args.model), str(args.model)


def token_counter(backend: LMBackend) -> TokenCounter | None:
    """Prompt length in the backend's own tokens when it has a tokenizer (HF), else None."""
    tok = getattr(backend, "tokenizer", None)
    return (lambda text: len(tok(text)["input_ids"])) if tok is not None else None


def run_jobs(backend: LMBackend, store: JsonlStore, jobs: Sequence[tuple[str, str, int]], sampling: Sampling,
             to_record: Callable[[str, Generation], dict], batch_size: int) -> int:
    """Generate the (key, prompt, seed) jobs not yet in ``store``; returns how many were generated."""
    todo = [j for j in jobs if j[0] not in store]
    log.info("%s: %d of %d to generate", store.path.name, len(todo), len(jobs))
    for lo in range(0, len(todo), batch_size):
        chunk = todo[lo:lo + batch_size]
        gens = backend.generate([p for _, p, _ in chunk], sampling, [s for _, _, s in chunk])
        for (key, _, _), gen in zip(chunk, gens):
            store.add(key, to_record(key, gen))
    return len(todo)


def fit_demos(build: Callable[[Sequence[T]], str], demos: Sequence[T], count_tokens: TokenCounter,
              max_tokens: int, reserve: int) -> list[T]:
    """Drop demonstrations from the front (the least similar) until ``build(demos)`` plus ``reserve`` new
    tokens fits ``max_tokens``."""
    kept = list(demos)
    while kept and count_tokens(build(kept)) + reserve > max_tokens:
        kept.pop(0)
    return kept


def read_store(path: str | Path) -> JsonlStore:
    """Open a finished store for reading, keeping its recorded fingerprint."""
    path = Path(path)
    meta = path.with_name(path.name + ".meta.json")
    fp = json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") if meta.is_file() else {}
    return JsonlStore(path, fp)
