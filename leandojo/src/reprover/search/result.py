"""What one proof attempt produced, in the JSON shape written per theorem by ``reprover prove``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Status strings. "discarded": the theorem could not be opened (excluded from Pass@1);
# "open": a limit (time, expansions) or a crash stopped the search before a proof or exhaustion.
PROVED, FAILED, OPEN, DISCARDED = "proved", "failed", "open", "discarded"


@dataclass
class SearchResult:
    file_path: str
    full_name: str
    status: str
    proof: list[str] | None = None
    stop_reason: str = ""
    """"proved", "exhausted", "timeout", "max_expansions", "crash" (the backend died), "init_error" (discarded),
    "exception" (our code raised while proving), "worker_died" (the Ray worker process died)"""
    error: str | None = None
    num_expansions: int = 0
    num_total_nodes: int = 0
    actor_time: float = 0.0  # seconds inside the generator
    environment_time: float = 0.0  # seconds inside run_tac
    total_time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchResult:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def pass_at_1(results: list[SearchResult]) -> tuple[float | None, int, int]:
    """(Pass@1, proved, total): discarded theorems leave the denominator; None when nothing is left."""
    counted = [r for r in results if r.status != DISCARDED]
    proved = sum(r.status == PROVED for r in counted)
    return (proved / len(counted) if counted else None), proved, len(counted)
