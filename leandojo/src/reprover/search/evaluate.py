"""Pass@1 evaluation: choose the theorems, prove them, write ``{"pass@1", "proved", "total", ...}``."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict
from typing import Any

from repro.atomic import atomic_write_text
from reprover.data.records import TheoremRecord
from reprover.search.result import DISCARDED, SearchResult, pass_at_1


def deterministic_subset(theorems: list[TheoremRecord], num_theorems: int | None) -> list[TheoremRecord]:
    """RP's order: sort by md5("file_path:full_name"), then keep the first ``num_theorems``."""
    ordered = sorted(theorems, key=lambda t: hashlib.md5(f"{t.file_path}:{t.full_name}".encode()).hexdigest())
    return ordered if num_theorems is None else ordered[:num_theorems]


def summarize(results: list[SearchResult], config: dict[str, Any]) -> dict[str, Any]:
    score, proved, total = pass_at_1(results)
    return {
        "pass@1": None if score is None or math.isnan(score) else score,
        "proved": proved,
        "total": total,
        "discarded": sum(r.status == DISCARDED for r in results),
        "config": config,
        "per_theorem": [r.to_json() for r in results],
    }


def write_summary(path: str | os.PathLike, summary: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")


def config_of(spec: Any) -> dict[str, Any]:
    return asdict(spec)
