"""load_checkpoint on the files users have, and clear errors on the ones it cannot use."""

from __future__ import annotations

import json

import pytest
import torch
from ml_testkit import FIXTURES, official_hparams

from mellotron import load_checkpoint
from mellotron.warm_start import warm_start
from ninerepro.train.checkpoint import CheckpointError


def test_published_state_dict_only_file_with_prefixes_loads(tmp_path):
    state = torch.load(FIXTURES / "official_tiny.pt", weights_only=True)["state_dict"]
    path = tmp_path / "published.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    model = load_checkpoint(path, hparams=official_hparams())
    assert not model.training and model.cfg.n_speakers == 3


def test_hparams_from_a_json_file(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text(json.dumps(official_hparams() | {"learning_rate": 1e-3}))  # training keys are accepted
    assert load_checkpoint(FIXTURES / "official_tiny.pt", hparams=path).cfg.decoder_rnn_dim == 48


def test_speaker_count_that_disagrees_with_the_file_is_named():
    with pytest.raises(CheckpointError, match="n_speakers=3 but hparams say 123"):
        load_checkpoint(FIXTURES / "official_tiny.pt", hparams=official_hparams() | {"n_speakers": 123})


def test_unknown_hparam_names_are_refused():
    with pytest.raises(CheckpointError, match="unknown key"):
        load_checkpoint(FIXTURES / "official_tiny.pt", hparams={"n_speakerz": 3})


def test_missing_sizes_give_the_mismatch_report_not_a_traceback():
    with pytest.raises(CheckpointError, match="does not fit the model"):
        load_checkpoint(FIXTURES / "official_tiny.pt")  # official default sizes: far larger layers


def test_garbage_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(bad)


def test_warm_start_keeps_ignored_layers_fresh(tmp_path):
    from ml_testkit import tiny_config

    from mellotron import Mellotron

    torch.manual_seed(5)
    model = Mellotron(tiny_config())
    fresh = model.speaker_embedding.weight.clone()
    taken = warm_start(model, FIXTURES / "official_tiny.pt", ["speaker_embedding.weight"])
    assert "speaker_embedding.weight" not in taken and "embedding.weight" in taken
    assert torch.equal(model.speaker_embedding.weight, fresh)
    with pytest.raises(CheckpointError, match="does not have"):
        warm_start(model, FIXTURES / "official_tiny.pt", ["no.such.layer"])
