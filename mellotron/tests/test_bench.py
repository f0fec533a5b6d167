"""bench/bench.py runs end to end: ours alone in seconds (always), and beside the official code when its clone
is present (slow). Both check the JSON report that gpu-check gathers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ninerepro.bench_report import read_report

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT.parent / ".anchors" / "mellotron"


def run_bench(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "report.json"
    results = tmp_path / "RESULTS.md"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--tiny", "--device", "cpu",
                           "--batch", "2", "--frames", "12", "--repeats", "1", "--json", str(out),
                           "--results", str(results), *extra], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| training step (tiny, batch 2, 12 frames, fp32) | s |" in results.read_text()
    return read_report(out)


def test_bench_tiny_ours_only_writes_a_report(tmp_path):
    report = run_bench(tmp_path)
    assert report["subproject"] == "mellotron" and report["official_source"] is None
    names = [f["name"] for f in report["figures"]]
    assert names == ["training step (tiny, batch 2, 12 frames, fp32)", "inference (tiny, 12 frames, fp32)"]
    train, infer = report["figures"]
    assert train["unit"] == "s" and not train["higher_is_better"] and train["target"] == 2.0
    assert infer["unit"] == "frames/s" and infer["higher_is_better"] and infer["target"] == 3.0
    for f in report["figures"]:
        assert f["ours"] > 0 and f["official"] is None and f["ratio"] is None
        assert f["baseline"] == "official NVIDIA/mellotron"


@pytest.mark.slow
@pytest.mark.skipif(not (OFFICIAL / "model.py").is_file(),
                    reason="the official NVIDIA/mellotron clone (.anchors/mellotron, not in CI) is absent")
def test_bench_tiny_with_the_official_code_gives_equal_outputs(tmp_path):
    report = run_bench(tmp_path, "--official", str(OFFICIAL))
    assert report["official_source"].startswith(str(OFFICIAL))
    assert report["settings"]["inference_max_abs_diff"] < 1e-5
    for f in report["figures"]:
        assert f["official"] > 0 and f["ratio"] > 0
