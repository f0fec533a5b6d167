"""A Pass@1 run at benchmark scale: results stream to JSONL as theorems finish, a rerun resumes, a bar shows it.

``reprover prove --output OUT.json`` keeps one line per finished theorem in ``OUT.jsonl`` (appended whole,
flushed and fsynced, through :class:`ninerepro.lm.jsonl_store.JsonlStore`), next to a fingerprint of the settings
that produced it (``OUT.jsonl.meta.json``). Rerunning the same command proves only the theorems without a
line; other settings are refused instead of mixed in (``--fresh`` starts over). A theorem whose attempt
raised or killed its worker keeps its line and reason; ``--retry-errors`` proves those again. When every
selected theorem has a line, the summary ``OUT.json`` is written (atomically) from the lines, in the
selection's md5 order. The progress bar (stderr) shows done/total, the running Pass@1 and tqdm's ETA.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ninerepro.lm.jsonl_store import JsonlStore, StoreMismatch
from reprover.data.records import TheoremRecord
from reprover.search.evaluate import config_of, summarize, theorem_key, write_summary
from reprover.search.parallel import prove_all
from reprover.search.prover import ProverSpec
from reprover.search.result import DISCARDED, PROVED, SearchResult

RETRYABLE = ("exception", "worker_died")


def results_path(output: str | Path) -> Path:
    """``OUT.json`` -> ``OUT.jsonl`` (the per-theorem stream beside the summary)."""
    out = Path(output)
    return out.with_suffix(".jsonl") if out.suffix == ".json" else out.with_name(out.name + ".jsonl")


def fingerprint(spec: ProverSpec) -> dict[str, Any]:
    """What decides a theorem's result; worker count and selection do not (a resumed run may change them)."""
    return config_of(spec)


class Progress:
    """done/total with running Pass@1 on a tqdm bar (stderr); silent when disabled."""

    def __init__(self, total: int, done: list[SearchResult], enabled: bool) -> None:
        self.proved = sum(r.status == PROVED for r in done)
        self.counted = sum(r.status != DISCARDED for r in done)
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=len(done), unit="thm", dynamic_ncols=True, desc="prove")
            self._postfix()

    def _postfix(self) -> None:
        score = f"{self.proved / self.counted:.3f}" if self.counted else "n/a"
        self.bar.set_postfix_str(f"Pass@1 {score} ({self.proved}/{self.counted})")

    def update(self, r: SearchResult) -> None:
        self.proved += r.status == PROVED
        self.counted += r.status != DISCARDED
        if self.bar is not None:
            self.bar.update(1)
            self._postfix()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_pass1(spec: ProverSpec, selected: list[TheoremRecord], output: str | Path, *, num_workers: int = 1,
              num_gpus: float = 0.0, fresh: bool = False, retry_errors: bool = False, progress: bool = True,
              all_theorems: list[TheoremRecord] | None = None) -> dict[str, Any]:
    """Prove what ``OUT.jsonl`` lacks, then write and return the summary of every selected theorem."""
    try:
        store = JsonlStore(results_path(output), fingerprint(spec), fresh=fresh)
    except StoreMismatch as err:
        raise ValueError(f"{str(err).split(';')[0]}; rerun with the same options to resume, pass --fresh to start "
                         "over, or choose another --output") from None
    if retry_errors:
        for key in [k for k, rec in store.records.items() if rec.get("stop_reason") in RETRYABLE]:
            del store.records[key]  # the new line, appended later, supersedes the old one on reading
    keys = [theorem_key(t) for t in selected]
    todo = [t for t, k in zip(selected, keys, strict=True) if k not in store]
    done = [SearchResult.from_json(store.get(k)) for k in keys if k in store]
    bar = Progress(len(selected), done, progress)

    def record(r: SearchResult) -> None:
        store.add(theorem_key(r), dataclasses.asdict(r))
        bar.update(r)

    try:
        prove_all(spec, todo, num_workers, num_gpus, on_result=record, all_theorems=all_theorems or selected)
    finally:
        bar.close()
    results = [SearchResult.from_json(store.get(k)) for k in keys]
    summary = summarize(results, config_of(spec))
    summary["results_jsonl"] = str(store.path)
    write_summary(output, summary)
    return summary
