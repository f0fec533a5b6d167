"""The benchmark script runs end to end on a tiny config without the official code and records its numbers."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

from ninerepro.envinfo import device_name

BENCH = Path(__file__).parents[1] / "bench" / "bench.py"
TINY = Path(__file__).parents[1] / "configs" / "tiny.json"
SMALL = ["model.n_flows=2", "model.wn.n_layers=2", "model.wn.n_channels=8"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("waveglow_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_without_official_times_ours_and_appends_a_dated_section(bench, tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    args = ["--config", str(TINY), "--seconds", "0.2", "--batch-sizes", "1", "2", "--repeats", "1",
            "--segment", "2048", "--results", str(results), *SMALL]
    assert bench.main(args) == 0
    assert bench.main(args) == 0  # a second run appends, it does not overwrite
    text = results.read_text()
    assert text.startswith("# WaveGlow benchmark results")
    assert len(re.findall(r"^## \d{4}-\d\d-\d\d · ", text, flags=re.M)) == 2
    assert "official: no (ours alone)" in text and f"torch: {torch.__version__}" in text
    # the environment stamp is ninerepro.envinfo's: CPU model and threads in the title, commit and load below
    assert f" · {device_name('cpu')}\n" in text
    assert re.search(r"git: [0-9a-f]{7,}", text) and "load average at the end: " in text
    khz = [float(m) for m in re.findall(r"\| synthesis\s*\| fp32\s*\|\s*\d+ \|\s*([\d.]+) \|", text)]
    assert len(khz) == 4 and all(v > 0 for v in khz)
    assert "train step" in text and "ours_khz" in capsys.readouterr().out


def test_official_path_without_glow_py_is_a_clear_error(bench, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"glow\.py not found"):
        bench.import_official(tmp_path)


def test_cpu_noise_shim_restores_the_cuda_tensor_names(bench):
    before = torch.cuda.FloatTensor
    with bench.cpu_noise_shim(torch.device("cpu")):
        assert torch.cuda.FloatTensor(2, 3).shape == (2, 3)
        assert torch.cuda.HalfTensor(4).dtype == torch.float16
    assert torch.cuda.FloatTensor is before
