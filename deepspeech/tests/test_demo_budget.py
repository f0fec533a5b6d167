"""The demo's time budget and its refusal to mix corpora (fast; the full demo is in test_demo.py)."""

from __future__ import annotations

import json

import pytest

from deepspeech.demo import EVAL_RESERVE_S, MIN_TRAIN_S, make_corpus, train_budget


def test_training_gets_the_budget_left_after_data_minus_the_evaluation_reserve():
    assert train_budget(540.0, 30.0) == 540.0 - 30.0 - EVAL_RESERVE_S


def test_a_slow_start_still_leaves_the_minimum_training_time_and_zero_budget_means_no_limit():
    assert train_budget(540.0, 500.0) == MIN_TRAIN_S
    assert train_budget(0.0, 30.0) == 0.0


def test_a_corpus_made_with_other_settings_is_refused_with_the_fix(tmp_path):
    corpus = tmp_path / "LibriSpeech"
    corpus.mkdir()
    (corpus / ".repro-synth.json").write_text(json.dumps({"kind": "librispeech", "n": 400, "seed": 0}))
    with pytest.raises(FileExistsError, match=r"n=400 seed=0, not n=800 seed=0; delete"):
        make_corpus(tmp_path, 800, 0)
