"""The demo trains a fixed number of steps, afresh unless told to resume (fast; the full demo is in test_demo.py)."""

from __future__ import annotations

import json

import pytest
from ds_testkit import CONFIGS, write_corpus

from deepspeech.demo import make_corpus, train_stage

SMALL = ["model.hidden=16", "model.n_layers=2", "model.conv_channels=[4,4]", "train.device=cpu",
         "train.progress=false", "train.log_every=1", "train.tensorboard=false", "data.num_workers=0",
         "data.batch_size=2", "data.max_duration=0", "train.ckpt_every=1"]


@pytest.fixture
def manifest(tmp_path):
    return write_corpus(tmp_path / "corpus", ["ab ba", "a b", "ba ab", "abba", "b a", "aab"])


def test_two_fresh_runs_train_the_same_steps_to_the_same_loss(tmp_path, manifest):
    first = train_stage(tmp_path / "a", manifest, CONFIGS / "tiny.json", [*SMALL, "train.max_steps=3"])
    second = train_stage(tmp_path / "a", manifest, CONFIGS / "tiny.json", [*SMALL, "train.max_steps=3"])
    assert first["train_steps"] == first["steps_this_run"] == 3
    assert second["train_steps"] == second["steps_this_run"] == 3  # the rerun started again at step 0
    assert second["final_train_loss"] == first["final_train_loss"]
    assert not second["resumed"]


def test_resume_continues_from_the_newest_checkpoint(tmp_path, manifest):
    train_stage(tmp_path / "a", manifest, CONFIGS / "tiny.json", [*SMALL, "train.max_steps=2"])
    more = train_stage(tmp_path / "a", manifest, CONFIGS / "tiny.json", [*SMALL, "train.max_steps=3"], resume=True)
    assert (more["train_steps"], more["steps_this_run"], more["resumed"]) == (3, 1, True)


def test_a_wall_clock_budget_is_refused_with_the_fix(tmp_path, manifest):
    with pytest.raises(ValueError, match=r"train\.max_steps=N"):
        train_stage(tmp_path / "a", manifest, CONFIGS / "tiny.json", [*SMALL, "train.max_time_s=60"])


def test_a_corpus_made_with_other_settings_is_refused_with_the_fix(tmp_path):
    corpus = tmp_path / "LibriSpeech"
    corpus.mkdir()
    (corpus / ".repro-synth.json").write_text(json.dumps({"kind": "librispeech", "n": 400, "seed": 0}))
    with pytest.raises(FileExistsError, match=r"n=400 seed=0, not n=800 seed=0; delete"):
        make_corpus(tmp_path, 800, 0)
