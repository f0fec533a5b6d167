"""The benchmark's tiny mode runs in seconds and writes a valid ninerepro.bench_report JSON."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ninerepro.bench_report import read_report

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench.py"


def test_tiny_bench_writes_a_report_with_the_batch_1_baseline(tmp_path):
    spec = importlib.util.spec_from_file_location("kd_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["kd_bench"] = mod
    spec.loader.exec_module(mod)
    results = tmp_path / "RESULTS.md"
    assert mod.main(["--tiny", "--device", "cpu", "--json", str(tmp_path / "b.json"), "--results", str(results)]) == 0
    rep = read_report(tmp_path / "b.json")
    fig = rep["figures"][0]
    assert rep["subproject"] == "knowledge-dialogue" and fig["baseline"] == "HF generate, batch 1"
    assert fig["unit"] == "dialogues/s" and fig["ours"] > 0 and fig["official"] > 0 and fig["ratio"] > 0
    assert rep["settings"]["prompt_tokens"] > 100 and "HF generate, batch 1" in results.read_text()
