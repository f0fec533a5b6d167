"""The CPU demo, shrunk: a synthetic corpus, a short training run, and a real learning signal (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ninerepro.data.synth.cli import build
from ninerepro.envinfo import describe
from waveglow.demo import DemoOptions, main, pick_threads, run_demo, summarise, write_report


@pytest.fixture
def demo_threads():
    """The thread count the demo command would pick (2 spinning threads on a busy machine are ~7x slower)."""
    before = torch.get_num_threads()
    yield pick_threads()
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.usefixtures("demo_threads")
def test_demo_trains_a_model_that_beats_its_untrained_self_on_mcd_and_lsd(tmp_path):
    corpus = build("ljspeech", tmp_path / "corpus", n=24, seed=0, workers=2)
    out = tmp_path / "out"
    facts = run_demo(DemoOptions(corpus, out, n_test=2, steps=150, overrides=("train.progress=false",)))
    report = json.loads((out / "report.json").read_text())
    means = {row["system"]: row for row in report["summary"]}
    assert facts["steps"] == 150
    assert means["waveglow"]["mcd_db"] < means["untrained"]["mcd_db"]
    assert means["waveglow"]["lsd_db"] < means["untrained"]["lsd_db"]
    assert means["waveglow"]["nll"] < means["untrained"]["nll"]
    assert 0.0 <= means["waveglow"]["stoi"] <= 1.0 and means["griffin_lim"]["stoi"] > 0.8
    for name in ("report.md", "spectrograms.png", "loss.png"):
        assert (out / name).stat().st_size > 0
    assert len(list(Path(out).glob("*_waveglow.wav"))) == 2


def test_report_states_the_scores_and_the_environment_from_repro_envinfo(tmp_path):
    rows = [{"clip": "c", "system": "waveglow", "stoi": 0.5, "mcd_db": 50.0, "lsd_db": 20.0, "nll": -2.0},
            {"clip": "c", "system": "untrained", "stoi": 0.3, "mcd_db": 60.0, "lsd_db": 40.0, "nll": 0.0},
            {"clip": "c", "system": "griffin_lim", "stoi": 0.95, "mcd_db": 7.0, "lsd_db": 30.0}]
    env = describe("cpu")
    facts = {"parameters": 1234, "config": "tiny.json", "steps": 5, "train_seconds": 2.0, "n_train": 3, "n_test": 1,
             "sigma": 0.6, "trained_beats_untrained": True, "environment": env, "total_seconds": 9.0,
             "stoi_trained": 0.5, "stoi_griffin_lim": 0.95, "stoi_target_met": False}
    text = write_report(tmp_path, summarise(rows), rows, facts).read_text()
    assert f"Environment: {env['device']}, load {env['load']}, torch {env['torch']}, " in text
    assert f"git {env['git']}, {env['date']}. Total demo time 9 s." in text
    assert "STOI of the trained model >= 0.6: **False** (0.500; Griffin-Lim 0.950)" in text
    assert "| waveglow " in text and json.loads((tmp_path / "report.json").read_text())["environment"] == env


@pytest.mark.parametrize(("load", "expected"), [(0.1, 2), (0.6, 1), (1.9, 1), (7.0, 1)])
def test_the_demo_uses_one_torch_thread_per_idle_core(monkeypatch, load, expected):
    before = torch.get_num_threads()
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    try:
        assert pick_threads() == expected == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.usefixtures("demo_threads")
def test_a_missing_corpus_is_one_error_line_naming_it(tmp_path, capsys):
    assert main(["--corpus", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err and "Traceback" not in err
