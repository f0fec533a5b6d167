"""The real-Lean path without Lean: tracing, the cache check before any worker starts, and opening failures,
against a stand-in for the lean_dojo module (4.20.0's names)."""

import os
import sys
import types
from contextlib import contextmanager

import pytest

from reprover.cli import main
from reprover.env.lean import LeanDojoEnvironment
from reprover.env.trace import trace_repos
from reprover.env.types import EnvironmentUnavailableError
from reprover.search.best_first import SearchConfig, prove_theorem


def fake_lean_dojo(cached=(), open_error=None):
    m = types.ModuleType("lean_dojo")
    m.__version__ = "4.20.0"
    m.traced = []

    class TacticState:
        def __init__(self, pp):
            self.pp = pp

    class DojoInitError(Exception):
        pass

    for cls in (TacticState, DojoInitError):
        setattr(m, cls.__name__, cls)
    for name in ("ProofFinished", "LeanError", "ProofGivenUp", "DojoCrashError", "DojoTacticTimeoutError"):
        setattr(m, name, type(name, (Exception,), {}))
    m.LeanGitRepo = lambda url, commit: (url, commit)
    m.Theorem = lambda repo, path, name: (repo, path, name)
    m.is_available_in_cache = lambda repo: repo in cached
    m.trace = lambda repo, build_deps=True: m.traced.append(repo)

    @contextmanager
    def Dojo(target, timeout):
        if open_error is not None:
            raise open_error
        yield object(), TacticState("⊢ x")

    m.Dojo = Dojo
    return m


@pytest.fixture()
def lean_installed(tmp_path, monkeypatch):
    """A `lake` on PATH and a lean_dojo module: what import_lean_dojo looks for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lake").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "lake").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def install(module):
        monkeypatch.setitem(sys.modules, "lean_dojo", module)
        return module

    return install


def test_an_untraced_repository_stops_prove_before_any_worker_starts(fixture_root, bench, tmp_path, lean_installed,
                                                                      capsys, monkeypatch):
    lean_installed(fake_lean_dojo(cached=()))
    started = []
    monkeypatch.setattr("reprover.search.run.prove_all", lambda *a, **k: started.append(1))
    out = tmp_path / "o.json"
    rc = main(["prove", "--data", str(fixture_root), "--env", "lean", "--output", str(out), "--num-workers", "4"])
    err = capsys.readouterr().err.strip()
    thm = bench.split("random", "val")[0]
    assert rc == 2 and len(err.splitlines()) == 1
    assert f"reprover trace {thm.url} {thm.commit}" in err and not started and not out.exists()


def test_trace_skips_cached_repositories_and_traces_the_rest(fixture_root, bench, lean_installed, capsys):
    thm = bench.split("random", "val")[0]
    module = lean_installed(fake_lean_dojo(cached=()))
    assert main(["trace", thm.url, thm.commit, "--min-free-gb", "0"]) == 0
    assert module.traced == [(thm.url, thm.commit)]
    module = lean_installed(fake_lean_dojo(cached=((thm.url, thm.commit),)))
    assert main(["trace", "--data", str(fixture_root), "--min-free-gb", "0"]) == 0
    assert module.traced == [] and "already traced" in capsys.readouterr().out


def test_trace_refuses_to_start_without_the_disk_it_needs(lean_installed):
    module = lean_installed(fake_lean_dojo())
    with pytest.raises(EnvironmentUnavailableError, match=r"GB free.*--min-free-gb"):
        trace_repos([("https://x/y", "0" * 40)], module, min_free_gb=1e9)
    assert module.traced == []


def test_trace_takes_a_repository_or_a_benchmark_not_both(capsys):
    assert main(["trace"]) == 2
    assert "either REPO COMMIT or --data" in capsys.readouterr().err


@pytest.mark.parametrize("error", [OSError("git: repository not found"), AssertionError("no Lean4Repl target"),
                                   RuntimeError("ray actor died")])
def test_every_exception_while_opening_a_lean_theorem_discards_it_with_the_reason(bench, error):
    env = LeanDojoEnvironment(module=fake_lean_dojo(open_error=error))
    thm = bench.split("random", "val")[0]
    r = prove_theorem(thm, env, generator=None, config=SearchConfig())
    assert r.status == "discarded" and type(error).__name__ in r.error and str(error) in r.error


def test_the_lean_extra_pins_the_lean_dojo_version_the_wrapper_is_written_for():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["optional-dependencies"]["lean"] == ["lean-dojo==4.20.0"]
