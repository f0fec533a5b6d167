"""The whole CPU demo (slow): the tiny DS2 must be far better than chance on held-out sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepspeech.demo import DEFAULT_N, report, run


@pytest.mark.slow
def test_the_demo_model_reaches_cer_below_one_half_on_held_out_sentences_in_its_fixed_steps(tmp_path):
    config = Path(__file__).resolve().parents[1] / "configs" / "tiny.json"
    out = tmp_path / "demo"
    results = run(out, n=DEFAULT_N, seed=0, config=config, overrides=["train.progress=false"], beam=16)
    assert results["greedy"]["cer"] < 0.5, report(results, out)
    assert results["train_steps"] == results["steps_this_run"] > 0
    assert results["train_steps"] == results["max_steps"] == 600
    assert (out / "loss.png").is_file() and (out / "posteriorgram.png").is_file()
