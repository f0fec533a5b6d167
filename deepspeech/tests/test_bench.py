"""bench/bench.py: times ours alone without --official, and brings deepspeech.pytorch in from a clone."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.json"


def load_bench():
    spec = importlib.util.spec_from_file_location("deepspeech_bench", BENCH / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_without_official_it_times_ours_and_appends_a_block_to_the_results_file(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# existing notes\n")
    rows = load_bench().main(["--config", str(TINY), "--device", "cpu", "--batch", "2", "--seconds", "0.5",
                              "--steps", "1", "--warmup", "0", "--precisions", "fp32", "--results", str(results)])
    assert len(rows) == 1 and rows[0]["ours_train"] > 0 and rows[0]["ours_rtf"] > 0
    assert "dsp_train" not in rows[0]
    text = results.read_text()
    assert text.startswith("# existing notes\n")  # appended, never overwritten
    assert "official: not run" in text and "| fp32 |" in text and "| — |" in text


def test_the_ratio_columns_say_how_much_faster_ours_is():
    table = load_bench().results_table([{"precision": "fp32", "ours_train": 3.0, "dsp_train": 2.0,
                                         "ours_rtf": 0.1, "dsp_rtf": 0.25}])
    assert "| fp32 | 3.00 | 2.00 | 1.50x | 0.1000 | 0.2500 | 2.50x |" in table


def test_a_model_deepspeech_pytorch_cannot_build_is_refused_before_timing(tmp_path):
    with pytest.raises(SystemExit, match=r"model.conv='1d-1' \(needs '2d-2'\)"):
        load_bench().main(["--config", str(TINY), "--official", str(tmp_path), "--results", str(tmp_path / "r.md"),
                           "model.conv=1d-1", "model.conv_channels=[]"])


def test_a_folder_without_deepspeech_pytorch_is_refused_with_the_fix(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import dsp_official

        with pytest.raises(SystemExit, match=r"no deepspeech_pytorch/model\.py there"):
            dsp_official.import_official(tmp_path)
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.skipif(not os.environ.get("DEEPSPEECH_PYTORCH"),
                    reason="set DEEPSPEECH_PYTORCH=/path/to/a deepspeech.pytorch clone to run")
def test_the_official_model_at_tiny_size_has_our_parameter_count(tmp_path):
    rows = load_bench().main(["--config", str(TINY), "--device", "cpu", "--batch", "2", "--seconds", "0.5",
                              "--steps", "1", "--warmup", "0", "--precisions", "fp32",
                              "--official", os.environ["DEEPSPEECH_PYTORCH"], "--results", str(tmp_path / "r.md"),
                              "model.conv_channels=[]"])
    assert rows[0]["dsp_train"] > 0 and rows[0]["dsp_rtf"] > 0
    counts = re.search(r"parameters ours ([\d.]+) M, deepspeech.pytorch ([\d.]+) M", (tmp_path / "r.md").read_text())
    assert counts and counts.group(1) == counts.group(2)
