"""Pass@1 evaluation: choose the theorems, prove them, write ``{"pass@1", "proved", "total", ...}``."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict
from typing import Any

from ninerepro.atomic import atomic_write_text
from reprover.data.records import TheoremRecord
from reprover.search.result import DISCARDED, SearchResult, pass_at_1


def theorem_key(t: TheoremRecord | SearchResult) -> str:
    """``file_path:full_name``: RP's sort key, and the id of a theorem's line in the results JSONL."""
    return f"{t.file_path}:{t.full_name}"


def deterministic_subset(theorems: list[TheoremRecord], num_theorems: int | None) -> list[TheoremRecord]:
    """RP's order: sort by md5("file_path:full_name"), then keep the first ``num_theorems``."""
    if num_theorems is not None and num_theorems < 1:
        raise ValueError(f"--num-theorems must be >= 1, got {num_theorems}")
    ordered = sorted(theorems, key=lambda t: hashlib.md5(theorem_key(t).encode()).hexdigest())
    return ordered if num_theorems is None else ordered[:num_theorems]


def select_theorems(theorems: list[TheoremRecord], *, file_path: str | None = None, full_name: str | None = None,
                    name_filter: str | None = None, num_theorems: int | None = None) -> list[TheoremRecord]:
    """RP ``_get_theorems_from_files``: exact ``file_path`` / ``full_name``; ``name_filter`` keeps theorems whose
    md5(full_name) hex digest starts with it (a shard); then md5 order and the first ``num_theorems``."""
    if name_filter is not None and not all(c in "0123456789abcdef" for c in name_filter.lower()):
        raise ValueError(f"--name-filter {name_filter!r}: a prefix of an md5 hex digest (0-9, a-f), "
                         "e.g. --name-filter 0a")
    kept = [t for t in theorems
            if (file_path is None or t.file_path == file_path) and (full_name is None or t.full_name == full_name)
            and (name_filter is None or hashlib.md5(t.full_name.encode()).hexdigest().startswith(name_filter.lower()))]
    return deterministic_subset(kept, num_theorems)


def summarize(results: list[SearchResult], config: dict[str, Any]) -> dict[str, Any]:
    """RP's Pass@1 = proved / (proved + failed), where "failed" is every non-discarded unproved theorem
    (open ones included); discarded theorems are counted and listed, outside the denominator."""
    score, proved, total = pass_at_1(results)
    discarded = [r for r in results if r.status == DISCARDED]
    return {
        "pass@1": None if score is None or math.isnan(score) else score,
        "proved": proved,
        "failed": total - proved,
        "total": total,
        "discarded": len(discarded),
        "discarded_theorems": [{"full_name": r.full_name, "file_path": r.file_path, "reason": r.error}
                               for r in discarded],
        "errors": sum(r.stop_reason in ("exception", "worker_died") for r in results),
        "config": config,
        "per_theorem": [r.to_json() for r in results],
    }


def write_summary(path: str | os.PathLike, summary: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")


def config_of(spec: Any) -> dict[str, Any]:
    return asdict(spec)
