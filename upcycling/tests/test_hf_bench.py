"""The MoE benchmark runs at toy size, checks ours against the transformers block, and records a result."""

import importlib.util
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("upcycling_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_toy_bench_prints_ratios_and_appends_a_section_with_machine_and_versions(bench, tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    for _ in range(2):
        assert bench.main(["--toy", "--device", "cpu", "--iters", "1", "--warmup", "0", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "vs transformers-eager" in out and "equal-FLOP dense MLP" in out
    text = results.read_text()
    assert text.startswith("# Benchmark results") and text.count("\n## ") == 2
    assert f"torch {torch.__version__}" in text and "transformers Mixtral block, grouped_mm" in text
    header = [line for line in text.splitlines() if line.startswith("## ")][-1]
    assert " · cpu: " in header and " cores" in header and ", load " in header  # ninerepro.envinfo's stamp


def test_the_bench_refuses_to_time_blocks_that_disagree_with_ours(bench, monkeypatch):
    real_build = bench.build

    def perturbed(*args):
        models = real_build(*args)
        with torch.no_grad():
            models["transformers-eager"].experts.down_proj.mul_(1.01)
        return models

    monkeypatch.setattr(bench, "build", perturbed)
    with pytest.raises(RuntimeError, match="disagrees"):
        bench.main(["--toy", "--device", "cpu", "--no-append"])


def test_the_bench_times_a_whole_training_step_under_the_trainers_autocast(bench, capsys):
    assert bench.main(["--toy", "--device", "cpu", "--precision", "bf16", "--step", "--iters", "1", "--warmup", "0",
                       "--no-append"]) == 0
    out = capsys.readouterr().out
    assert "precision bf16 (the Trainer's autocast)" in out and "MoE/dense" in out
