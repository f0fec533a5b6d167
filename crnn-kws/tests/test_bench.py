"""bench/bench.py --tiny: times ours and the plain baseline, appends markdown, writes a BenchReport JSON."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
from kws_testkit import config

from ninerepro.bench_report import read_report

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench():
    spec = importlib.util.spec_from_file_location("crnn_kws_bench", BENCH / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_tiny_cpu_run_writes_a_report_with_both_figures_against_the_plain_baseline(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# notes\n")
    load_bench().main(["--tiny", "--device", "cpu", "--results", str(results), "--json", str(tmp_path / "b.json")])
    data = read_report(tmp_path / "b.json")
    assert data["subproject"] == "crnn-kws" and data["settings"]["config"] == "configs/tiny.json"
    names = [f["name"] for f in data["figures"]]
    assert names == ["training fp32 batch 4", "streaming latency per 10 ms hop (CPU host loop)"]
    for f in data["figures"]:
        assert f["baseline"] == "plain PyTorch CRNN" and f["ours"] > 0 and f["official"] > 0 and f["ratio"] > 0
    assert data["figures"][1]["higher_is_better"] is False
    text = results.read_text()
    assert text.startswith("# notes\n") and "| training fp32 batch 4 | windows/s |" in text


def test_the_plain_baseline_computes_the_same_function_as_ours():
    sys.path.insert(0, str(BENCH))
    try:
        from plain_crnn import from_ours
    finally:
        sys.path.remove(str(BENCH))
    import crnn_kws

    model = crnn_kws.build_model(config("tiny"))
    x = torch.rand(3, 40, 51)
    with torch.no_grad():
        torch.testing.assert_close(from_ours(model)(x), model(x))
