"""``flowtron.load_checkpoint`` reads every format users have and refuses what it cannot trust or fit."""

from __future__ import annotations

import io

import pytest
import torch
from flowtron_testkit import FIXTURES, official_configs, tiny_model

from flowtron import load_checkpoint
from ninerepro.train.checkpoint import CheckpointError


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_published_state_dict_and_pickled_training_file_give_the_same_model():
    published = load_checkpoint(FIXTURES / "official_tiny_state_dict.pt")
    training = load_checkpoint(FIXTURES / "official_tiny_train.pt")
    assert same_weights(published, training)
    assert not published.training


def test_sizes_are_read_from_the_tensors_and_agree_with_the_official_config():
    model = load_checkpoint(FIXTURES / "official_tiny_state_dict.pt", config=official_configs()["tiny"])
    for key, value in official_configs()["tiny"].items():
        assert getattr(model.cfg, key) == value, key


def test_a_config_json_with_model_config_is_accepted(tmp_path):
    import json

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"train_config": {}, "model_config": official_configs()["tiny"]}))
    assert load_checkpoint(FIXTURES / "official_tiny_state_dict.pt", config=path).cfg.n_hidden == 48


def test_a_config_that_disagrees_with_the_checkpoint_names_the_keys():
    cfg = official_configs()["tiny"] | {"n_flows": 3, "n_speakers": 123}
    with pytest.raises(CheckpointError, match=r"n_speakers: config 123, checkpoint 3.*n_flows: config 3"):
        load_checkpoint(FIXTURES / "official_tiny_state_dict.pt", config=cfg)


def test_unknown_config_keys_are_named():
    with pytest.raises(CheckpointError, match="n_flow"):
        load_checkpoint(FIXTURES / "official_tiny_state_dict.pt", config={"n_flow": 2})


def test_ddp_and_compile_prefixes_are_removed(tmp_path):
    model = tiny_model()
    state = {f"module._orig_mod.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "ddp.pt")
    assert same_weights(load_checkpoint(tmp_path / "ddp.pt"), model)


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_that_names_foreign_code_is_refused_without_running_it(tmp_path, capsys):
    buffer = io.BytesIO()
    torch.save({"model": Exploit()}, buffer, pickle_protocol=2)
    (tmp_path / "evil.pt").write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"refusing to load global (builtins\.)?print"):
        load_checkpoint(tmp_path / "evil.pt")
    assert "must never run" not in capsys.readouterr().out


def test_missing_truncated_and_foreign_files_get_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    data = (FIXTURES / "official_tiny_state_dict.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"state_dict": {"foo.weight": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a Flowtron"):
        load_checkpoint(tmp_path / "other.pt")
