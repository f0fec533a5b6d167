"""Checkpoint writes are atomic, retention keeps the newest, bad files and shape mismatches fail clearly."""

import pytest
import torch
from torch import nn

from ninerepro.train import DistEnv, Trainer
from ninerepro.train.checkpoint import (
    CheckpointError,
    find_latest_valid,
    list_checkpoints,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)
from ninerepro.train.toy import ToyModel, ToyRegression, toy_loader, toy_step, toy_trainer_config


def _state(step):
    return {"model": {"w": torch.full((2,), float(step))}, "loop": {"step": step}}


def test_a_save_killed_midway_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    save_checkpoint(_state(1), tmp_path, 1)

    def dies_halfway(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed during save")

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(_state(2), tmp_path, 2)
    monkeypatch.undo()
    assert (tmp_path / "latest.txt").read_text().strip() == "ckpt_000000001.pt"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    path, state = find_latest_valid(tmp_path)
    assert path.name == "ckpt_000000001.pt" and torch.equal(state["model"]["w"], torch.ones(2))


def test_a_truncated_newest_checkpoint_is_skipped_for_the_previous_one(tmp_path):
    save_checkpoint(_state(1), tmp_path, 1, keep_last=0)
    p2 = save_checkpoint(_state(2), tmp_path, 2, keep_last=0)
    p2.write_bytes(p2.read_bytes()[:100])  # e.g. a full disk or a copy cut short
    with pytest.raises(CheckpointError, match="truncated, corrupted"):
        load_checkpoint(p2)
    path, _ = find_latest_valid(tmp_path)
    assert path.name == "ckpt_000000001.pt"


def test_a_pickled_module_is_refused_without_executing_it(tmp_path):
    bad = tmp_path / "ckpt_000000003.pt"
    torch.save({"model": nn.Linear(2, 2)}, bad)  # a whole module, as the official WaveGlow train.py saves
    with pytest.raises(CheckpointError, match="convert"):
        load_checkpoint(bad)


def test_retention_keeps_the_last_n_checkpoints(tmp_path):
    for step in range(1, 6):
        save_checkpoint(_state(step), tmp_path, step, keep_last=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt_000000004.pt", "ckpt_000000005.pt"]


def test_a_shape_mismatch_names_every_mismatched_parameter_and_the_file(tmp_path):
    small = ToyModel(hidden=16)
    big = ToyModel(hidden=32)
    with pytest.raises(CheckpointError) as info:
        load_model_state(big, small.state_dict(), source="runs/x/ckpt_000000010.pt")
    msg = str(info.value)
    assert "runs/x/ckpt_000000010.pt" in msg
    for name in ("net.0.weight", "net.0.bias", "net.3.weight"):
        assert name in msg
    assert "(16, 8)" in msg and "(32, 8)" in msg
    assert "net.3.bias" not in msg.split("shape mismatch:")[1]  # same shape (1,): not reported


def test_resuming_a_run_with_a_different_model_config_fails_before_training(tmp_path):
    cfg = toy_trainer_config(max_steps=2)
    cpu = DistEnv(device=torch.device("cpu"))
    Trainer(cfg, ToyModel(hidden=16), toy_step, toy_loader(ToyRegression(), 4), tmp_path, env=cpu).fit()
    trainer = Trainer(toy_trainer_config(max_steps=4), ToyModel(hidden=8), toy_step,
                      toy_loader(ToyRegression(), 4), tmp_path, env=cpu)
    with pytest.raises(CheckpointError, match=r"net\.0\.weight: checkpoint \(16, 8\) vs model \(8, 8\)"):
        trainer.fit()


def test_atomic_writes_get_the_permissions_a_plain_open_would_give(tmp_path):
    import os

    from ninerepro.atomic import atomic_write_text

    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "filelist.txt", "a|b\n")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
