"""The markdown form of a `make gpu-check` report: one summary row per subproject, one row per figure.

Used by the run itself (``gpu-check.md``) and by ``gpu_results.py``, which folds one subproject's rows into
its ``bench/RESULTS.md``; both render from the JSON so the two never disagree.
"""

from __future__ import annotations


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def environment_line(report: dict) -> str:
    env = report["environment"]
    return (f"{report['date']} · {env.get('card', 'unknown')} · driver {env.get('driver', 'none')} · "
            f"torch {env.get('torch')} (CUDA {env.get('cuda')}) · Python {env.get('python')} · git {env.get('git')} · "
            f"{report['mode'].upper()} mode · {report['elapsed_s']:.0f} s of a {report['budget_s']:.0f} s budget")


def tests_cell(tests: dict) -> str:
    status = tests["status"]
    if "passed" in tests:
        counts = f"{tests['passed']} passed, {tests['failed'] + tests['errors']} failed, {tests['skipped']} skipped"
        return f"{status} ({counts})"
    return status


def bench_cell(bench: dict) -> str:
    status = bench["status"]
    if status == "timeout":
        return f"stopped at its {bench['step']['slice_s']:.0f} s slice"
    if bench.get("step") and status not in ("measured",):
        return f"{status} (exit {bench['step']['returncode']})"
    return status


def figure_rows(entry: dict) -> list[str]:
    rows = []
    for f in entry["bench"]["figures"]:
        met = {True: "yes", False: "no", None: "—"}[f.get("meets_target")]
        target = f"≥ {f['target']:g}×" if f.get("target") is not None else "—"
        ratio = f"{f['ratio']:.2f}×" if f.get("ratio") is not None else "—"
        baseline = f["baseline"] if f.get("official") is not None else f"{f['baseline']} (not run)"
        rows.append(f"| {entry['key']} | {f['name']} | {f['unit']} | {fmt(f['ours'])} | {fmt(f.get('official'))} "
                    f"| {baseline} | {ratio} | {target} | {met} |")
    return rows


FIGURE_HEADER = ["| subproject | figure | unit | ours | baseline value | baseline | ratio | target | met |",
                 "|---|---|---|---:|---:|---|---:|---:|---|"]


def render_markdown(report: dict) -> str:
    """The whole report: environment, install, a summary per subproject, then every figure."""
    lines = ["# make gpu-check", "", environment_line(report), "",
             f"Install: {report['install']['status']}: {report['install']['detail']}", "",
             "| subproject | paper | GPU tests | benchmark | official code | note |", "|---|---|---|---|---|---|"]
    for e in report["subprojects"]:
        bench = e["bench"]
        note = bench.get("detail") or e["tests"].get("detail") or ""
        lines.append(f"| {e['key']} | {e['paper']} | {tests_cell(e['tests'])} | {bench_cell(bench)} | "
                     f"{bench.get('official') or '—'} | {note} |")
    figures = [row for e in report["subprojects"] for row in figure_rows(e)]
    lines += ["", "Ratios above 1 mean ours is better (faster, or more per second).", ""]
    lines += [*FIGURE_HEADER, *figures] if figures else ["No figures were measured."]
    return "\n".join(lines) + "\n"
