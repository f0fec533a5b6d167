"""The Mandarin CPU demo (slow): held-out CER far below chance in its fixed steps; a tiny end-to-end run."""

from __future__ import annotations

import pytest

from deepspeech.mandarin.demo import CONFIG, DEFAULT_N, claims, report, run


@pytest.mark.slow
def test_the_mandarin_demo_is_far_below_chance_and_the_lm_helps_on_held_out_sentences_and_voices(tmp_path):
    # measured 2026-12-02 (README "Mandarin"): after the default 600 steps greedy 0.155, beam + 3-gram 0.086,
    # chance 0.972; both claims are asserted: greedy and LM CER under half of chance, and the LM below greedy
    out = tmp_path / "demo"
    results = run(out, n=DEFAULT_N, seed=0, config=CONFIG, overrides=["train.progress=false"], beam=16)
    assert results["train_steps"] == results["steps_this_run"] == results["max_steps"] == 600
    assert claims(results)[0][1], report(results, out)  # greedy and LM both < 0.5 x chance
    assert results["greedy"]["cer"] < 0.3, report(results, out)  # 0.155 measured; a regression margin
    assert claims(results)[1][1], report(results, out)  # the character LM lowers CER below greedy


@pytest.mark.slow
def test_a_tiny_mandarin_demo_runs_end_to_end_and_reports_its_claims(tmp_path):
    out = tmp_path / "demo"
    results = run(out, n=40, seed=1, config=CONFIG, overrides=["train.progress=false", "train.max_steps=4"], beam=4)
    assert results["train_steps"] == 4 and results["test_utterances"] == 4
    assert 0.8 < results["chance"]["cer"] <= 1.2  # guessing characters from the unigram distribution
    text = report(results, out)
    assert "claim: DS2 abstract/§6.2" in text and "chance" in text
