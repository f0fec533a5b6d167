"""The benchmark script runs end to end at a small size, agrees with brute force, and appends its results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[1] / "bench" / "bench.py"


def _load():
    spec = importlib.util.spec_from_file_location("reprover_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_at_a_small_size_writes_a_results_block(tmp_path):
    bench = _load()
    results = tmp_path / "RESULTS.md"
    assert bench.main(["--premises", "3000", "--dim", "32", "--queries", "16", "--search-repeats", "1",
                       "--states", "1", "--beams", "2", "--expansion-beams", "2", "--input-bytes", "100",
                       "--output-tokens", "4", "--expansion-repeats", "1", "--embed-premises", "4",
                       "--results", str(results), "--json", str(tmp_path / "b.json")]) == 0
    text = results.read_text()
    assert "queries/s" in text and "expansions/s" in text and "tokens/s" in text
    assert "RP call (fp32)" in text and "premises/s" in text
    import json

    names = [f["name"] for f in json.loads((tmp_path / "b.json").read_text())["figures"]]
    assert any(n.startswith("expansion: 2-beam generate") for n in names), names
    assert "same top-100: 100 %" in text


def test_faiss_and_torch_retrieval_agree_in_the_benchmark():
    r = _load().bench_retrieval(2000, 16, 8, 50)
    assert r["same_top_k"] == 1.0 and r["faiss_qps"] > 0
