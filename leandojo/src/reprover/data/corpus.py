"""The premise corpus (``corpus.jsonl``): files, their import DAG, premise lookup and accessibility.

A premise is *accessible* to a theorem at position ``pos`` in file F iff it is defined in a file that F
imports directly or transitively, or in F itself and ends at or before ``pos`` (paper Sec. 5).
Retrieval must respect this: Lean would reject a premise that is not in scope yet.

Premises are stored in one flat list, file by file in corpus order, so every file owns a contiguous index
range. Accessibility is then a boolean mask built from a few slices, which is what the FAISS index in
:mod:`reprover.retrieval` filters with (vectorised, not per-premise Python sets).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reprover.data.errors import BenchmarkFormatError
from reprover.data.positions import Pos, parse_pos
from reprover.data.records import Premise

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusFile:
    """One ``corpus.jsonl`` line: a file, its direct imports and the slice of premises it defines."""

    path: str
    imports: tuple[str, ...]
    lo: int  # first premise index (into Corpus.premises)
    hi: int  # one past the last


def _keep_premise(entry: dict) -> bool:
    """The official loader's filter (RP ``File.from_data``): ill-formed names, empty code, mutual blocks."""
    name = entry.get("full_name")
    if name is None or "user__.n" in name or entry.get("code", "") == "":
        return False
    return not (name.startswith("[") and name.endswith("]"))


class Corpus:
    """All premises of a release, indexed by file, with the import DAG's transitive closure."""

    def __init__(self, files: list[CorpusFile], premises: list[Premise], source: str = "<memory>") -> None:
        self.source = source
        self.files: dict[str, CorpusFile] = {f.path: f for f in files}
        self.premises = premises
        self._index = {p: i for i, p in enumerate(premises)}
        self._closure: dict[str, frozenset[str]] = {}
        for f in files:  # imports precede importers (checked at load), so closures are ready when needed
            closure: set[str] = set(f.imports)
            for dep in f.imports:
                closure |= self._closure[dep]
            self._closure[f.path] = frozenset(closure)

    def __len__(self) -> int:
        return len(self.premises)

    def __contains__(self, path: object) -> bool:
        return path in self.files

    def file_premises(self, path: str) -> list[Premise]:
        f = self._file(path)
        return self.premises[f.lo:f.hi]

    def index_of(self, premise: Premise) -> int:
        """Position of ``premise`` in :attr:`premises` (the row of its embedding)."""
        return self._index[premise]

    def dependencies(self, path: str) -> frozenset[str]:
        """Every file ``path`` imports, directly or transitively (never itself)."""
        self._file(path)
        return self._closure[path]

    def locate_premise(self, path: str, pos: Pos) -> Premise | None:
        """The first premise of ``path`` whose [start, end] span contains ``pos`` (RP ``locate_premise``)."""
        if path not in self.files:
            return None
        for p in self.file_premises(path):
            if p.start <= pos <= p.end:
                return p
        return None

    def accessible_mask(self, path: str, pos: Pos) -> np.ndarray:
        """Boolean mask over :attr:`premises`: True where the premise is in scope at ``pos`` in ``path``."""
        mask = np.zeros(len(self.premises), dtype=bool)
        for dep in self.dependencies(path):
            f = self.files[dep]
            mask[f.lo:f.hi] = True
        own = self.files[path]
        for i in range(own.lo, own.hi):
            mask[i] = self.premises[i].end <= pos
        return mask

    def accessible_premises(self, path: str, pos: Pos) -> list[Premise]:
        """The premises of :meth:`accessible_mask`, in corpus order."""
        return [self.premises[i] for i in np.flatnonzero(self.accessible_mask(path, pos))]

    def is_accessible(self, premise: Premise, path: str, pos: Pos) -> bool:
        if premise.path == path:
            return premise.end <= pos
        return premise.path in self.dependencies(path)

    def _file(self, path: str) -> CorpusFile:
        if path not in self.files:
            raise BenchmarkFormatError(self.source, f"file {path!r} is not in the corpus",
                                       "Use the corpus.jsonl of the same release as the theorem records")
        return self.files[path]


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Read ``corpus.jsonl``, checking that imports refer to earlier lines and form a DAG."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkFormatError(path, "corpus file not found", "Point --data at a LeanDojo Benchmark "
                                   "directory (it holds corpus.jsonl); download one with "
                                   "`python -m reprover.data.download --root data`")
    raw: list[tuple[int, dict]] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                raw.append((line_no, _parse_line(path, line_no, line)))
    _check_import_order(path, raw)
    files: list[CorpusFile] = []
    premises: list[Premise] = []
    for line_no, entry in raw:
        lo = len(premises)
        for k, p in enumerate(entry["premises"]):
            if _keep_premise(p):
                premises.append(_parse_premise(path, line_no, entry["path"], k, p))
        files.append(CorpusFile(entry["path"], tuple(entry["imports"]), lo, len(premises)))
    log.info("%s: %d files, %d premises", path, len(files), len(premises))
    return Corpus(files, premises, source=str(path))


def _parse_line(path: Path, line_no: int, line: str) -> dict:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as err:
        raise BenchmarkFormatError(path, f"invalid JSON ({err.msg})", "Each line must be one JSON object",
                                   line_no) from None
    ok = (isinstance(entry, dict) and isinstance(entry.get("path"), str)
          and isinstance(entry.get("imports"), list) and all(isinstance(i, str) for i in entry["imports"])
          and isinstance(entry.get("premises"), list))
    if not ok:
        raise BenchmarkFormatError(path, "expected {\"path\": str, \"imports\": [str], \"premises\": [...]}",
                                   "Fix this line", line_no)
    return entry


def _parse_premise(path: Path, line_no: int, file_path: str, k: int, p: dict) -> Premise:
    try:
        start, end = parse_pos(p.get("start")), parse_pos(p.get("end"))
    except ValueError as err:
        raise BenchmarkFormatError(path, f"premise #{k} ({p.get('full_name')}): {err}",
                                   "Fix its start/end", line_no) from None
    if not start <= end:
        raise BenchmarkFormatError(path, f"premise {p['full_name']} ends {end} before it starts {start}",
                                   "Fix its start/end", line_no)
    return Premise(file_path, p["full_name"], start, end, p["code"], str(p.get("kind", "")))


def _check_import_order(path: Path, raw: list[tuple[int, dict]]) -> None:
    """Every import must be an earlier line: that proves acyclicity; on failure, say whether it is a cycle."""
    line_of = {}
    for line_no, entry in raw:
        if entry["path"] in line_of:
            raise BenchmarkFormatError(path, f"file {entry['path']!r} appears twice (also line "
                                       f"{line_of[entry['path']]})", "Keep one line per file", line_no)
        line_of[entry["path"]] = line_no
    seen: set[str] = set()
    for line_no, entry in raw:
        for dep in entry["imports"]:
            if dep not in line_of:
                raise BenchmarkFormatError(path, f"{entry['path']!r} imports {dep!r}, which has no line in the "
                                           "corpus", "Add that file's line before this one", line_no)
            if dep not in seen:
                cycle = _find_cycle({e["path"]: e["imports"] for _, e in raw}, entry["path"])
                problem = (f"the imports form a cycle: {' -> '.join(cycle)}" if cycle else
                           f"{entry['path']!r} imports {dep!r}, which comes later (line {line_of[dep]})")
                raise BenchmarkFormatError(path, problem, "corpus.jsonl must list files in reverse topological "
                                           "order of an acyclic import graph (imported files first)", line_no)
        seen.add(entry["path"])


def _find_cycle(graph: dict[str, list[str]], start: str) -> list[str] | None:
    """A cycle through the import graph reachable from ``start`` (iterative DFS), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    stack: list[tuple[str, int]] = [(start, 0)]
    path: list[str] = [start]
    state[start] = 1
    while stack:
        node, i = stack.pop()
        deps = graph.get(node, [])
        if i < len(deps):
            stack.append((node, i + 1))
            nxt = deps[i]
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, 0))
        else:
            state[node] = 2
            path.pop()
    return None
