"""Stage outputs as JSONL keyed by an item id: appended as they are made, so a killed run resumes where it stopped.

Each line is one finished record ``{"id": ..., ...}``, flushed and fsynced when written. On open, the records
already there are read back; a caller asks :meth:`JsonlStore.missing` which ids still need work and never
recomputes the others. A line cut short by a crash (the only line that can be, since records are appended
whole) is dropped with a warning and the file rewritten without it, atomically, before appending resumes.

A store also records a ``fingerprint`` of the settings that produced it (model, prompts, decoding) in a
sidecar ``<file>.meta.json``; reopening with other settings is refused rather than silently mixing runs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ninerepro.atomic import atomic_write_text

log = logging.getLogger(__name__)


class StoreMismatch(ValueError):
    """A resumed store was written with other settings than the run now asks for."""


class JsonlStore:
    """Finished records by id, backed by an append-only JSONL file."""

    def __init__(self, path: str | os.PathLike, fingerprint: dict | None = None, *, fresh: bool = False):
        self.path = Path(path)
        self.meta_path = self.path.with_name(self.path.name + ".meta.json")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for p in (self.path, self.meta_path):
                p.unlink(missing_ok=True)
        self._check_fingerprint(fingerprint or {})
        self.records: dict[str, dict] = self._read()

    def _check_fingerprint(self, fingerprint: dict) -> None:
        wanted = json.loads(json.dumps(fingerprint, sort_keys=True))
        if self.meta_path.is_file() and self.path.is_file():
            found = json.loads(self.meta_path.read_text(encoding="utf-8")).get("fingerprint")
            if found != wanted:
                diff = sorted(k for k in set(found or {}) | set(wanted) if (found or {}).get(k) != wanted.get(k))
                raise StoreMismatch(f"{self.path} was written with other settings (differing: {diff}); "
                                    f"use another output folder, or start fresh (drop --resume)")
        atomic_write_text(self.meta_path, json.dumps({"fingerprint": wanted}, indent=2, sort_keys=True) + "\n")

    def _read(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        records: dict[str, dict] = {}
        lines = self.path.read_text(encoding="utf-8").splitlines()
        good: list[str] = []
        for n, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
                key = str(rec["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                if n == len(lines):  # a torn last line from an interrupted append
                    log.warning("%s: dropping the incomplete last line %d", self.path, n)
                    atomic_write_text(self.path, "".join(g + "\n" for g in good))
                    break
                raise ValueError(f"{self.path}:{n}: not a JSON record with an 'id'; delete the file to start "
                                 f"this stage afresh") from None
            records[key] = rec
            good.append(line)
        return records

    def __contains__(self, key: object) -> bool:
        return str(key) in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str) -> dict:
        return self.records[str(key)]

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The ids among ``keys`` with no finished record, in the given order."""
        return [k for k in keys if str(k) not in self.records]

    def add(self, key: str, record: dict) -> None:
        """Append one finished record (``id`` is set to ``key``) and make it durable before returning."""
        rec = {"id": str(key), **{k: v for k, v in record.items() if k != "id"}}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.records[str(key)] = rec
