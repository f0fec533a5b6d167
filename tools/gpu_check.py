"""`make gpu-check`: every subproject's GPU tests and GPU benchmark in one prepared run, with one report.

A GPU machine is lent to this project now and then, for minutes, without internet. This script is what such
a session runs once: it installs the repository's missing dependencies from wheels carried in ``.gpu-wheels/``
(``make gpu-wheels`` downloads them beforehand), then for each subproject registered in ``tools/gpu_check.toml``
runs its ``-m gpu`` tests and its benchmark against the official code found in ``.anchors/<name>``, each within
its own time slice, and writes ``OUT/gpu-check.json`` and ``OUT/gpu-check.md``.

    python tools/gpu_check.py --out DIR                # on the GPU machine (python3 there holds torch)
    python tools/gpu_check.py --out DIR --cpu          # same pipeline, tiny sizes, CPU (a test in `make test`)

Exit status 1 when a test or benchmark failed (the report is written either way), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_registry import ROOT, Entry, load_registry, required_distributions, src_paths
from gpu_report import render_markdown
from gpu_steps import run_step

SCHEMA = "ninerepro.gpu-check/1"
DEFAULT_BUDGET_S = 540.0  # 9 minutes: leaves a 15-minute GPU lease room for the machine's start and one rerun
REPORT_RESERVE_S = 5.0
WHEELS = ROOT / ".gpu-wheels"


# The CPU mode's tiny benchmarks are mostly interpreter start-up and imports, which a shared 2-core machine (CI,
# a laptop running other jobs) can stretch past a slice sized for a GPU box: CPU mode gives each twice its slice.
CPU_SLICE_FACTOR = 2.0


class Budget:
    """The whole run's deadline: each step gets its slice, or what is left of the budget if that is less."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def slice_for(self, wanted: float) -> float | None:
        """Seconds this step may take, or None when too little is left to start it (under 5 s)."""
        left = self.seconds - self.elapsed() - REPORT_RESERVE_S
        return min(wanted, left) if left >= 5.0 else None


def child_env(site: Path, entries: list[Entry], cpu: bool) -> dict[str, str]:
    """The environment of every step: carried wheels and our ``src`` folders first on PYTHONPATH, so the
    repository runs on a machine where nothing of it was pip-installed; CUDA hidden in CPU mode."""
    env = dict(os.environ)
    paths = [str(site), *map(str, src_paths(entries))]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    if cpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


# ---- install --------------------------------------------------------------------------------------------------
def missing_distributions(python: str, names: list[str], env: dict[str, str]) -> list[str]:
    """The names in ``names`` that the child Python cannot find (importlib.metadata, honouring PYTHONPATH)."""
    probe = ("import importlib.metadata as m, json, sys\nout = []\nfor n in sys.argv[1:]:\n    try: m.version(n)\n"
             "    except m.PackageNotFoundError: out.append(n)\nprint(json.dumps(out))")
    res = subprocess.run([python, "-c", probe, *names], env=env, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"{python} could not list its packages: {res.stderr.strip()[-500:]}")
    return json.loads(res.stdout)


def install(python: str, wheels: Path, site: Path, entries: list[Entry], env: dict[str, str], budget: Budget,
            work: Path) -> dict:
    """Install the carried wheels into ``site`` (on PYTHONPATH) when the machine lacks any dependency."""
    needed = required_distributions(entries)
    missing = missing_distributions(python, needed, env)
    if not missing:
        return {"status": "ok", "detail": "every dependency already installed", "missing": []}
    found = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
    if not found:
        return {"status": "incomplete", "missing": missing,
                "detail": f"missing {', '.join(missing)} and no wheels in {wheels}: run `make gpu-wheels` on a "
                          f"machine with internet, then carry {wheels.name}/"}
    slice_s = budget.slice_for(120.0) or 5.0
    step = run_step([python, "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir",
                     "--disable-pip-version-check", "-q", "--upgrade", "--target", str(site), *map(str, found)],
                    cwd=ROOT, env=env, slice_s=slice_s, log=work / "install.log")
    still = missing_distributions(python, needed, env)
    status = "ok" if step.status == "ok" and not still else "incomplete"
    detail = (f"installed {len(found)} wheels from {wheels.name}/ in {step.seconds:.0f} s"
              + (f"; still missing {', '.join(still)} (their steps may fail)" if still else ""))
    return {"status": status, "detail": detail, "missing": still, "step": step.to_json()}


# ---- tests and benchmarks -------------------------------------------------------------------------------------
def run_tests(entry: Entry, python: str, env: dict[str, str], budget: Budget, work: Path) -> dict:
    """The subproject's ``-m gpu`` tests, collected only from files that hold the mark."""
    files = entry.gpu_test_files()
    if not files:
        return {"status": "none", "detail": "no @pytest.mark.gpu tests in this subproject yet"}
    slice_s = budget.slice_for(entry.tests_slice_s)
    if slice_s is None:
        return {"status": "not run", "detail": "the run's time budget was spent before this step"}
    junit = work / f"{entry.key}-tests.xml"
    cmd = [python, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider", f"--junitxml={junit}",
           *(str(f.relative_to(ROOT)) for f in files)]
    step = run_step(cmd, cwd=ROOT, env=env, slice_s=slice_s, log=work / f"{entry.key}-tests.log")
    counts = junit_counts(junit)
    if step.status == "timeout":
        status = "timeout"
    elif counts is None:
        status = "error"
    elif counts["failed"] or counts["errors"]:
        status = "failed"
    elif counts["passed"]:
        status = "passed"
    else:
        status = "skipped"
    return {"status": status, **(counts or {}), "files": [f.name for f in files], "step": step.to_json()}


def junit_counts(path: Path) -> dict[str, int] | None:
    """passed / failed / errors / skipped from pytest's JUnit XML, or None when it was never written."""
    if not path.is_file():
        return None
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    return {"passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"],
            "failed": total["failures"], "errors": total["errors"], "skipped": total["skipped"]}


def bench_command(entry: Entry, python: str, cpu: bool, work: Path, out_json: Path) -> tuple[list[str], str | None]:
    """The benchmark's argv and the official source it runs beside (None when ``.anchors/`` lacks it)."""
    args = [a.replace("{work}", str(work)) for a in (entry.bench_cpu if cpu else entry.bench)]
    cmd = [python, *args, "--json", str(out_json)]
    official = None
    if entry.anchor is not None and entry.anchor.present:
        cmd += [entry.anchor.official_flag, str(entry.anchor.path)]
        official = f"{entry.anchor.repo} at {entry.anchor.path.relative_to(ROOT)} ({anchor_commit(entry.anchor.path)})"
    return cmd, official


def anchor_commit(path: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"


def run_bench(entry: Entry, python: str, env: dict[str, str], cpu: bool, budget: Budget, work: Path) -> dict:
    if not (entry.bench_cpu if cpu else entry.bench):
        return {"status": "not measured", "figures": [],
                "detail": f"no {'CPU' if cpu else 'GPU'} benchmark registered in tools/gpu_check.toml"}
    slice_s = budget.slice_for(entry.bench_slice_s * (CPU_SLICE_FACTOR if cpu else 1))
    if slice_s is None:
        return {"status": "not run", "figures": [], "detail": "the run's time budget was spent before this step"}
    out_json = work / f"{entry.key}-bench.json"
    out_json.unlink(missing_ok=True)
    cmd, official = bench_command(entry, python, cpu, work, out_json)
    step = run_step(cmd, cwd=entry.path, env=env, slice_s=slice_s, log=work / f"{entry.key}-bench.log")
    written = json.loads(out_json.read_text(encoding="utf-8")) if out_json.is_file() else {}
    figures = written.get("figures", [])
    official = official or written.get("official_source")  # a baseline the benchmark brings itself
    status = {"ok": "measured" if figures else "failed"}.get(step.status, step.status)
    detail = (f"official code not found at .anchors/{entry.anchor.name}: ours alone (clone {entry.anchor.repo} "
              f"there)" if entry.anchor is not None and not entry.anchor.present else "")
    return {"status": status, "official": official, "figures": figures, "detail": detail, "step": step.to_json()}


def check_entry(entry: Entry, python: str, env: dict[str, str], cpu: bool, budget: Budget, work: Path) -> dict:
    base = {"key": entry.key, "paper": entry.paper, "folder": entry.folder, "built": entry.built}
    if not entry.built:
        reason = "not built yet: no subproject in this folder"
        return {**base, "tests": {"status": "none", "detail": reason},
                "bench": {"status": "not measured", "figures": [], "detail": reason}}
    print(f"[gpu-check] {entry.key}: tests", flush=True)
    tests = run_tests(entry, python, env, budget, work)
    print(f"[gpu-check] {entry.key}: tests {tests['status']}; benchmark", flush=True)
    bench = run_bench(entry, python, env, cpu, budget, work)
    print(f"[gpu-check] {entry.key}: benchmark {bench['status']} ({len(bench['figures'])} figures)", flush=True)
    return {**base, "tests": tests, "bench": bench}


# ---- environment and report -----------------------------------------------------------------------------------
def environment(python: str, env: dict[str, str]) -> dict[str, str]:
    """Card, driver, torch and CUDA as the child Python sees them (the one the steps ran with)."""
    probe = ("import json, torch; c = torch.cuda.is_available(); print(json.dumps({'torch': torch.__version__, "
             "'cuda': torch.version.cuda or 'none', 'card': torch.cuda.get_device_name(0) if c else 'none (CPU)'}))")
    info = {"torch": "unknown", "cuda": "unknown", "card": "unknown"}
    try:
        res = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
        info |= json.loads(res.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        pass
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=30).stdout.strip().splitlines()
        info["driver"] = driver[0] if driver else "none"
    except (OSError, subprocess.SubprocessError):
        info["driver"] = "none"
    from_git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    info["git"] = (from_git.stdout.strip() or "unknown") + ("+dirty" if dirty else "")
    info["python"] = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                    capture_output=True, text=True).stdout.strip()
    info["host"] = platform.node()
    return info


def write_report(report: dict, out: Path) -> None:
    """gpu-check.json and gpu-check.md, each written whole then renamed (a stopped run leaves no half file)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("gpu-check.json", json.dumps(report, indent=2) + "\n"),
                       ("gpu-check.md", render_markdown(report))):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for gpu-check.json, gpu-check.md and logs")
    p.add_argument("--cpu", action="store_true", help="tiny sizes on CPU (the test mode of `make test`)")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="seconds for the whole run (540)")
    p.add_argument("--only", default="", help="comma list of registry keys (default: all)")
    p.add_argument("--python", default=sys.executable, help="the interpreter every step runs with")
    p.add_argument("--wheels", type=Path, default=WHEELS, help="carried wheels (`make gpu-wheels`)")
    p.add_argument("--registry", type=Path, default=ROOT / "tools" / "gpu_check.toml")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        entries = load_registry(args.registry)
    except (OSError, ValueError) as exc:
        print(f"gpu-check: {exc}", file=sys.stderr)
        return 2
    only = {k for k in args.only.split(",") if k}
    unknown = only - {e.key for e in entries}
    if unknown:
        print(f"gpu-check: --only names unknown subprojects {sorted(unknown)}; known: "
              f"{', '.join(e.key for e in entries)}", file=sys.stderr)
        return 2
    budget = Budget(args.budget)
    work = args.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    site = work / "site"
    env = child_env(site, entries, args.cpu)
    started = dt.datetime.now(dt.UTC)
    print(f"[gpu-check] {'CPU' if args.cpu else 'GPU'} mode, budget {args.budget:.0f} s, report in {args.out}",
          flush=True)
    installed = install(args.python, args.wheels, site, entries, env, budget, work)
    print(f"[gpu-check] install: {installed['status']}: {installed['detail']}", flush=True)
    results = [check_entry(e, args.python, env, args.cpu, budget, work) if not only or e.key in only else
               {"key": e.key, "paper": e.paper, "folder": e.folder, "built": e.built,
                "tests": {"status": "not run", "detail": "left out by --only"},
                "bench": {"status": "not run", "figures": [], "detail": "left out by --only"}} for e in entries]
    report = {"schema": SCHEMA, "mode": "cpu" if args.cpu else "gpu",
              "date": started.strftime("%Y-%m-%d %H:%M UTC"), "budget_s": args.budget,
              "elapsed_s": round(budget.elapsed(), 1), "environment": environment(args.python, env),
              "install": installed, "subprojects": results}
    write_report(report, args.out)
    print(render_markdown(report))
    print(f"[gpu-check] wrote {args.out / 'gpu-check.json'} and {args.out / 'gpu-check.md'} "
          f"in {budget.elapsed():.0f} s")
    failed = [r["key"] for r in results if r["tests"]["status"] in ("failed", "error")
              or r["bench"]["status"] in ("failed", "error")]
    if failed:
        print(f"[gpu-check] failures in: {', '.join(failed)} (logs in {work})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
