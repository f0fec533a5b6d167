"""`make gpu-check`: the CPU mode runs the whole pipeline, lists every paper, and its failure handling holds."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import gpu_check  # noqa: E402
import gpu_results  # noqa: E402
from gpu_registry import load_registry  # noqa: E402
from gpu_wheels import lacking  # noqa: E402

PAPER_FOLDERS = {"waveglow", "flowtron", "mellotron", "deepspeech", "crnn-kws", "upcycling", "leandojo",
                 "closedbook-qa", "knowledge-dialogue"}


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory) -> tuple[dict, Path]:
    """One `make gpu-check CPU=1` run, shared by the tests that read its report."""
    out = tmp_path_factory.mktemp("gpu-check")
    res = subprocess.run(["make", "--no-print-directory", "gpu-check", "CPU=1", f"OUT={out}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads((out / "gpu-check.json").read_text()), out


def test_cpu_mode_lists_every_paper_and_the_toolkit(cpu_run):
    report, out = cpu_run
    keys = {e["folder"] for e in report["subprojects"]}
    assert keys == PAPER_FOLDERS | {"repro"}
    markdown = (out / "gpu-check.md").read_text()
    assert all(f"| {e['key']} |" in markdown for e in report["subprojects"])
    assert report["mode"] == "cpu" and report["elapsed_s"] < report["budget_s"]


def test_every_registered_benchmark_measures_positive_finite_figures_on_cpu(cpu_run):
    report, _ = cpu_run
    registered = {e.key for e in load_registry() if e.built and e.bench_cpu}
    assert {"waveglow", "mellotron", "deepspeech", "crnn-kws", "upcycling", "leandojo", "closedbook-qa",
            "knowledge-dialogue"} <= registered
    for entry in report["subprojects"]:
        if entry["key"] in registered:
            assert entry["bench"]["status"] == "measured", entry["bench"]
            assert entry["bench"]["figures"]
            assert all(math.isfinite(f["ours"]) and f["ours"] > 0 for f in entry["bench"]["figures"])


def test_a_paper_without_a_benchmark_says_why(cpu_run):
    report, _ = cpu_run
    for entry in report["subprojects"]:
        if entry["bench"]["status"] == "not measured":
            assert entry["bench"]["detail"], entry
            if not entry["built"]:
                assert "not built yet" in entry["bench"]["detail"]


def test_gpu_tests_are_collected_and_skipped_without_cuda(cpu_run):
    report, _ = cpu_run
    upcycling = next(e for e in report["subprojects"] if e["key"] == "upcycling")
    assert upcycling["tests"]["status"] == "skipped"
    assert upcycling["tests"]["skipped"] >= 1 and upcycling["tests"]["failed"] == 0


# ---- failure handling, on a registry of fake subprojects ---------------------------------------------------------
def fake_subproject(folder: Path, bench_body: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "fake-{folder.name}"\nversion = "0"\n')
    (folder / "bench.py").write_text(textwrap.dedent(bench_body))


FAST_BENCH = """
    import sys
    from ninerepro.bench_report import BenchFigure, BenchReport
    report = BenchReport("fast", "cpu")
    report.add(BenchFigure("work", "items/s", 10.0, 5.0))
    report.write(sys.argv[sys.argv.index("--json") + 1])
"""


def write_registry(path: Path, tmp: Path, slow_slice: float) -> Path:
    path.write_text(textwrap.dedent(f"""
        [slow]
        paper = "Slow"
        folder = "{tmp / 'slow'}"
        bench_slice_s = {slow_slice}
        bench_cpu = ["bench.py"]

        [fast]
        paper = "Fast"
        folder = "{tmp / 'fast'}"
        bench_cpu = ["bench.py"]

        [missing]
        paper = "Missing"
        folder = "{tmp / 'nowhere'}"
    """))
    return path


def test_a_benchmark_past_its_slice_is_stopped_and_the_rest_still_run(tmp_path):
    fake_subproject(tmp_path / "slow", "import time\ntime.sleep(120)\n")
    fake_subproject(tmp_path / "fast", FAST_BENCH)
    registry = write_registry(tmp_path / "reg.toml", tmp_path, slow_slice=2)
    assert gpu_check.main(["--cpu", "--out", str(tmp_path / "out"), "--registry", str(registry)]) == 0
    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    by_key = {e["key"]: e for e in report["subprojects"]}
    assert by_key["slow"]["bench"]["status"] == "timeout"
    assert by_key["slow"]["bench"]["step"]["seconds"] < 15
    assert by_key["fast"]["bench"]["status"] == "measured"
    assert by_key["fast"]["bench"]["figures"][0]["ratio"] == pytest.approx(2.0)
    assert by_key["missing"]["bench"]["status"] == "not measured"
    # CPU mode doubles every benchmark slice (gpu_check.CPU_SLICE_FACTOR)
    markdown = (tmp_path / "out" / "gpu-check.md").read_text()
    assert f"stopped at its {2 * gpu_check.CPU_SLICE_FACTOR:.0f} s slice" in markdown


def test_a_failing_benchmark_fails_the_run_but_the_report_is_written(tmp_path):
    fake_subproject(tmp_path / "slow", "raise SystemExit('boom')\n")
    fake_subproject(tmp_path / "fast", FAST_BENCH)
    registry = write_registry(tmp_path / "reg.toml", tmp_path, slow_slice=30)
    assert gpu_check.main(["--cpu", "--out", str(tmp_path / "out"), "--registry", str(registry)]) == 1
    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    slow = next(e for e in report["subprojects"] if e["key"] == "slow")
    assert slow["bench"]["status"] == "failed" and "boom" in slow["bench"]["step"]["tail"]


def test_steps_past_the_whole_budget_are_reported_not_run(tmp_path):
    fake_subproject(tmp_path / "slow", "import time\ntime.sleep(120)\n")
    fake_subproject(tmp_path / "fast", FAST_BENCH)
    registry = write_registry(tmp_path / "reg.toml", tmp_path, slow_slice=60)
    gpu_check.main(["--cpu", "--out", str(tmp_path / "out"), "--registry", str(registry), "--budget", "12"])
    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    by_key = {e["key"]: e for e in report["subprojects"]}
    assert by_key["slow"]["bench"]["status"] == "timeout"
    assert by_key["fast"]["bench"]["status"] == "not run"
    assert report["elapsed_s"] < 25


def test_an_unknown_registry_key_is_one_error_line(tmp_path, capsys):
    registry = tmp_path / "reg.toml"
    registry.write_text('[x]\npaper = "X"\nbenchh = []\n')
    assert gpu_check.main(["--cpu", "--out", str(tmp_path), "--registry", str(registry)]) == 2
    assert "unknown key(s) ['benchh']" in capsys.readouterr().err


def test_a_missing_dependency_without_wheels_names_make_gpu_wheels(tmp_path):
    folder = tmp_path / "needy"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "needy"\nversion = "0"\n'
                                           'dependencies = ["no-such-distribution-xyz>=1"]\n')
    registry = tmp_path / "reg.toml"
    registry.write_text(f'[needy]\npaper = "Needy"\nfolder = "{folder}"\n')
    entries = load_registry(registry)
    env = gpu_check.child_env(tmp_path / "site", entries, cpu=True)
    result = gpu_check.install(sys.executable, tmp_path / "no-wheels", tmp_path / "site", entries, env,
                               gpu_check.Budget(60), tmp_path)
    assert result["status"] == "incomplete"
    assert result["missing"] == ["no-such-distribution-xyz"] and "make gpu-wheels" in result["detail"]


def test_junit_counts_read_pytest_outcomes(tmp_path):
    xml = tmp_path / "j.xml"
    xml.write_text('<testsuites><testsuite tests="5" failures="1" errors="1" skipped="2"/></testsuites>')
    assert gpu_check.junit_counts(xml) == {"passed": 1, "failed": 1, "errors": 1, "skipped": 2}
    assert gpu_check.junit_counts(tmp_path / "absent.xml") is None


# ---- wheels and results ----------------------------------------------------------------------------------------
def test_wheels_follow_dependencies_only_through_packages_the_image_lacks():
    resolved = {"librosa": ("0.11", ["numpy>=1.2", "audioread>=2", "soxr"]), "numpy": ("2", []),
                "audioread": ("3", ["standard-aifc; python_version >= '3.13'"]), "soxr": ("1", ["numpy"]),
                "standard-aifc": ("3", []), "transformers": ("5", ["pydantic"]), "pydantic": ("2", [])}
    carry = lacking(["librosa>=0.10", "transformers>=5"], resolved, have={"numpy", "transformers"},
                    python_version="3.12")
    assert carry == [("audioread", "3"), ("librosa", "0.11"), ("soxr", "1")]


def test_results_fold_once_into_each_subproject_and_refuse_cpu_runs(tmp_path, cpu_run, monkeypatch):
    report, out = cpu_run
    for entry in report["subprojects"]:
        if entry["built"]:
            (tmp_path / entry["folder"] / "bench").mkdir(parents=True)
    assert gpu_results.main([str(out)]) == 2  # a CPU-mode run is not folded by default
    changed = gpu_results.fold(report, root=tmp_path)
    assert tmp_path / "waveglow" / "bench" / "RESULTS.md" in changed
    text = (tmp_path / "waveglow" / "bench" / "RESULTS.md").read_text()
    assert "make gpu-check" in text and "synthesis fp32 batch 1" in text
    assert gpu_results.fold(report, root=tmp_path) == []  # the same run twice adds nothing
