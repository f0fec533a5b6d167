"""``reprover trace``: trace a Lean repository with LeanDojo once, so ``--env lean`` can open its theorems.

RP's ``scripts/trace_repos.py`` traces every (url, commit) found in a benchmark's split files; so does
``reprover trace --data DIR``, and ``reprover trace URL COMMIT`` traces one repository. A repository already
in LeanDojo's cache (``CACHE_DIR``, default ``~/.cache/lean_dojo``; LeanDojo also consults its remote cache of
pre-traced repositories unless ``DISABLE_REMOTE_CACHE`` is set) is reported and skipped.

What tracing costs (LeanDojo's user guide and troubleshooting pages, not measured here): mathlib4 takes about
an hour on 32 CPUs (about 1.5x its build time) and needs at least 32 GB of RAM; ``NUM_PROCS`` sets the
parallelism. The disk it takes is not measured here: the traced repository (sources, build outputs and one
``*.ast.json`` / ``*.trace.xml`` per file) is stored in the cache, so we print the free space there before
starting and refuse below ``--min-free-gb``.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import ModuleType

from reprover.data.records import TheoremRecord
from reprover.env.types import EnvironmentUnavailableError

log = logging.getLogger(__name__)


def cache_dir(module: ModuleType) -> Path:
    constants = getattr(module, "constants", None)
    found = getattr(constants, "CACHE_DIR", None)
    return Path(found) if found is not None else Path(os.environ.get("CACHE_DIR", Path.home() / ".cache" / "lean_dojo"))


def repos_of(theorems: list[TheoremRecord]) -> list[tuple[str, str]]:
    return sorted({(t.url, t.commit) for t in theorems})


def free_gb(path: Path) -> float:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / 2**30


def trace_repos(repos: list[tuple[str, str]], module: ModuleType, min_free_gb: float = 50.0,
                build_deps: bool = True, echo=print) -> int:
    """Trace each repository not yet in the cache; returns how many were traced now."""
    traced = 0
    for url, commit in repos:
        repo = module.LeanGitRepo(url, commit)
        if module.is_available_in_cache(repo):
            echo(f"{url} @ {commit[:12]}: already traced (LeanDojo cache)")
            continue
        where = cache_dir(module)
        free = free_gb(where)
        if free < min_free_gb:
            raise EnvironmentUnavailableError(
                f"only {free:.0f} GB free under {where} (LeanDojo's CACHE_DIR); tracing a repository like mathlib4 "
                f"needs more; free space, set CACHE_DIR elsewhere, or lower --min-free-gb (now {min_free_gb:g})")
        echo(f"{url} @ {commit[:12]}: tracing with lean_dojo {getattr(module, '__version__', '?')} into {where} "
             f"({free:.0f} GB free). mathlib4 takes about 1 h on 32 CPUs and >= 32 GB RAM")
        module.trace(repo, build_deps=build_deps)
        traced += 1
    return traced
