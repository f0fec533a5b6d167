"""The subprojects `make gpu-check` knows about, read from ``tools/gpu_check.toml``.

Kept apart from the runner so that ``gpu_wheels.py`` (which needs the folders) and ``gpu_results.py`` (which
needs the names) read the same list without importing the runner's process handling.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "tools" / "gpu_check.toml"
ANCHORS = ROOT / ".anchors"


@dataclass(frozen=True)
class Anchor:
    """The official repository a benchmark runs beside ours, cloned by hand into ``.anchors/<name>``."""

    name: str
    repo: str
    official_flag: str = "--official"

    @property
    def path(self) -> Path:
        return ANCHORS / self.name

    @property
    def present(self) -> bool:
        return self.path.is_dir() and any(self.path.iterdir())


@dataclass(frozen=True)
class Entry:
    """One paper: where it lives and what its GPU run is."""

    key: str
    paper: str
    folder: str
    tests_slice_s: float = 45.0
    bench_slice_s: float = 60.0
    bench: list[str] = field(default_factory=list)
    bench_cpu: list[str] = field(default_factory=list)
    anchor: Anchor | None = None

    @property
    def path(self) -> Path:
        return ROOT / self.folder

    @property
    def built(self) -> bool:
        return (self.path / "pyproject.toml").is_file()

    def gpu_test_files(self) -> list[Path]:
        """Test files that hold a ``gpu`` mark: only these are collected, so a GPU machine that lacks a
        dependency of some unrelated CPU test (Ray, say) still runs every GPU test."""
        tests = self.path / "tests"
        if not tests.is_dir():
            return []
        return sorted(p for p in tests.rglob("test_*.py") if "mark.gpu" in p.read_text(encoding="utf-8"))


_KNOWN_KEYS = {"paper", "folder", "tests_slice_s", "bench_slice_s", "bench", "bench_cpu", "anchor"}


def load_registry(path: Path = REGISTRY) -> list[Entry]:
    """Every entry of the registry, in file order; an unknown key is an error naming the entry and the key."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for key, raw in data.items():
        unknown = set(raw) - _KNOWN_KEYS
        if unknown:
            raise ValueError(f"{path}: [{key}] has unknown key(s) {sorted(unknown)}; known: {sorted(_KNOWN_KEYS)}")
        anchor = Anchor(**raw["anchor"]) if "anchor" in raw else None
        entries.append(Entry(key=key, paper=raw["paper"], folder=raw.get("folder", key),
                             tests_slice_s=float(raw.get("tests_slice_s", 45)),
                             bench_slice_s=float(raw.get("bench_slice_s", 60)),
                             bench=list(raw.get("bench", [])), bench_cpu=list(raw.get("bench_cpu", [])),
                             anchor=anchor))
    return entries


def src_paths(entries: list[Entry]) -> list[Path]:
    """``repro/src`` and each built subproject's ``src``: what a machine without our packages installed puts
    on PYTHONPATH instead."""
    paths = [ROOT / "repro" / "src"]
    paths += [e.path / "src" for e in entries if e.built and (e.path / "src").is_dir()]
    return paths


# Dependencies no GPU step needs, left out of the carried wheels on purpose (with the reason shown in reports).
NOT_CARRIED = {
    "ray": "Ray spreads proof search over workers; no GPU test or benchmark uses it, and its wheel alone is "
           "larger than the 64 MiB one GPU call may carry",
}


def requirements(entries: list[Entry]) -> list[str]:
    """Third-party requirement strings of our pyprojects (``[test]`` extras included), torch and ours left out."""
    ours, reqs = set(), []
    for pyproject in [ROOT / "repro" / "pyproject.toml", *(e.path / "pyproject.toml" for e in entries if e.built)]:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        ours.add(distribution_name(project["name"]))
        reqs += list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("test", []))
    skip = ours | {"torch", "ruff"}
    return sorted({r.strip() for r in reqs if distribution_name(r) not in skip})


def required_distributions(entries: list[Entry]) -> list[str]:
    """The distribution names of :func:`requirements` that a GPU step needs (``NOT_CARRIED`` left out)."""
    return sorted({distribution_name(r) for r in requirements(entries)} - set(NOT_CARRIED))


def distribution_name(requirement: str) -> str:
    """``"faiss-cpu>=1.8"`` -> ``"faiss-cpu"``, normalised as PyPI compares names (PEP 503)."""
    name = re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()
