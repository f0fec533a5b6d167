"""`make gpu-results RESULTS=DIR`: fold one `make gpu-check` run into each subproject's ``bench/RESULTS.md``.

A GPU run's numbers belong beside the CPU numbers each subproject already keeps. Each built subproject that
ran gets one dated section naming the card, driver, torch and git hash, its GPU-test outcome and its figures.
A section is keyed by the run's date and git hash, so folding the same run twice adds nothing. CPU-mode runs
(tiny sizes, a check of the pipeline, not a measurement) are refused unless ``--allow-cpu`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_registry import ROOT
from gpu_report import FIGURE_HEADER, bench_cell, environment_line, figure_rows, tests_cell


def marker(report: dict) -> str:
    return f"<!-- gpu-check {report['date']} git {report['environment'].get('git')} -->"


def section(report: dict, entry: dict) -> str:
    """The markdown one subproject receives: where it ran, its tests, its benchmark and its figures."""
    env = report["environment"]
    card = env.get("card", "unknown")
    lines = [marker(report), f"## {report['date'].split(' ')[0]} · {card} · make gpu-check", "",
             environment_line(report), "",
             f"GPU tests: {tests_cell(entry['tests'])}. Benchmark: {bench_cell(entry['bench'])}; official code: "
             f"{entry['bench'].get('official') or 'not run'}."]
    command = entry["bench"].get("step", {}).get("command")
    if command:
        lines += ["", f"Benchmark command: `{command}`"]
    if entry["bench"].get("detail"):
        lines += ["", entry["bench"]["detail"] + "."]
    rows = figure_rows(entry)
    if rows:
        lines += ["", "Ratios above 1 mean ours is better.", "", *FIGURE_HEADER, *rows]
    return "\n".join(lines) + "\n"


def fold(report: dict, root: Path = ROOT) -> list[Path]:
    """Append each built subproject's section to its RESULTS.md; returns the files that changed."""
    changed = []
    for entry in report["subprojects"]:
        if not entry["built"] or entry["bench"]["status"] == "not run":
            continue
        path = root / entry["folder"] / "bench" / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.is_file() else f"# {entry['paper']} benchmark results\n"
        if marker(report) in old:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(old.rstrip("\n") + "\n\n" + section(report, entry), encoding="utf-8")
        os.replace(tmp, path)
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=Path, help="the folder a gpu-check run wrote (holds gpu-check.json)")
    p.add_argument("--allow-cpu", action="store_true", help="fold a CPU-mode run too (tiny sizes)")
    args = p.parse_args(argv)
    path = args.results / "gpu-check.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"gpu-results: cannot read {path} ({exc}); run `make gpu-check OUT={args.results}` first",
              file=sys.stderr)
        return 2
    if report.get("schema") != "ninerepro.gpu-check/1":
        print(f"gpu-results: {path} is not a gpu-check report (schema {report.get('schema')!r})", file=sys.stderr)
        return 2
    if report["mode"] == "cpu" and not args.allow_cpu:
        print(f"gpu-results: {path} is a CPU-mode run (tiny sizes); add --allow-cpu to fold it anyway",
              file=sys.stderr)
        return 2
    changed = fold(report)
    for c in changed:
        print(f"gpu-results: appended to {c.relative_to(ROOT)}")
    if not changed:
        print("gpu-results: nothing new to fold (already folded, or no subproject ran)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
