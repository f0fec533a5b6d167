"""Exact resume: N steps straight equals N/2 steps, a fresh process-like restart, then N/2 more."""

import json

import torch

from ninerepro.train import DistEnv, Trainer
from ninerepro.train.toy import ToyModel, ToyRegression, toy_loader, toy_step, toy_trainer_config

CPU = DistEnv(device=torch.device("cpu"))


def _train(run_dir, max_steps, **cfg):
    torch.manual_seed(0)
    model = ToyModel(dropout=0.2)
    trainer = Trainer(toy_trainer_config(max_steps=max_steps, **cfg), model, toy_step,
                      toy_loader(ToyRegression(n=40), batch_size=4), run_dir, env=CPU)
    trainer.fit()
    return model


def _losses(run_dir):
    """(step, loss) of every logged training step, in file order: a restart from scratch would repeat steps."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [(r["step"], r["loss"]) for r in map(json.loads, lines) if r["split"] == "train"]


def test_resumed_training_is_bitwise_identical_to_uninterrupted_training(tmp_path):
    n = 14  # 10 batches per epoch: the resume point (7) and the run cross an epoch boundary
    straight = _train(tmp_path / "a", n)
    _train(tmp_path / "b", n // 2)
    torch.manual_seed(999)  # a restarted process starts with different global RNG state
    resumed = _train(tmp_path / "b", n)
    for (k, v1), v2 in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(v1, v2), k
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")
    assert [s for s, _ in _losses(tmp_path / "b")] == list(range(1, n + 1))


def test_resume_with_grad_accumulation_and_schedule_is_exact(tmp_path):
    kw = dict(grad_accum=3, grad_clip=0.5)
    straight = _train(tmp_path / "a", 8, **kw)
    _train(tmp_path / "b", 5, **kw)
    resumed = _train(tmp_path / "b", 8, **kw)
    assert [s for s, _ in _losses(tmp_path / "b")] == list(range(1, 9))
    for v1, v2 in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(v1, v2)


def test_a_finished_run_rerun_does_not_train_further(tmp_path):
    model = _train(tmp_path, 4)
    again = _train(tmp_path, 4)
    for v1, v2 in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(v1, v2)
    assert (tmp_path / "latest.txt").read_text().strip() == "ckpt_000000004.pt"
