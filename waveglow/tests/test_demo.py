"""The CPU demo, shrunk: a synthetic corpus, a short training run, and a real learning signal (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from waveglow.demo import DemoOptions, run_demo

from repro.data.synth.cli import build


@pytest.mark.slow
def test_demo_trains_a_model_that_beats_its_untrained_self_on_mcd_and_lsd(tmp_path):
    corpus = build("ljspeech", tmp_path / "corpus", n=24, seed=0, workers=2)
    out = tmp_path / "out"
    facts = run_demo(DemoOptions(corpus, out, n_test=2, time_budget_s=600.0,
                                 overrides=("train.max_steps=150", "train.progress=false")))
    report = json.loads((out / "report.json").read_text())
    means = {row["system"]: row for row in report["summary"]}
    assert facts["steps"] == 150
    assert means["waveglow"]["mcd_db"] < means["untrained"]["mcd_db"]
    assert means["waveglow"]["lsd_db"] < means["untrained"]["lsd_db"]
    assert means["waveglow"]["nll"] < means["untrained"]["nll"]
    for name in ("report.md", "spectrograms.png", "loss.png"):
        assert (out / name).stat().st_size > 0
    assert len(list(Path(out).glob("*_waveglow.wav"))) == 2
