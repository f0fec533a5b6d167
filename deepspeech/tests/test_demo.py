"""The whole CPU demo (slow): the tiny DS2 must be far better than chance on held-out sentences."""

from __future__ import annotations

import pytest
from deepspeech.demo import run


@pytest.mark.slow
def test_the_demo_model_reaches_cer_below_one_half_on_held_out_sentences(tmp_path):
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "configs" / "tiny.json"
    results = run(tmp_path / "demo", n=400, seed=0, config=config, overrides=["train.progress=false"], beam=16)
    assert results["greedy"]["cer"] < 0.5
    assert (tmp_path / "demo" / "loss.png").is_file() and (tmp_path / "demo" / "posteriorgram.png").is_file()
