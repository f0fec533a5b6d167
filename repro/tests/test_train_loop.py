"""The training loop: NaN stops, accumulation equals a bigger batch, bf16 autocast runs, throughput logged."""

import json
import math

import pytest
import torch
from torch.utils.data import DataLoader

from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.train import DistEnv, NonFiniteLossError, StepOutput, Trainer
from ninerepro.train.toy import ToyModel, ToyRegression, toy_loader, toy_step, toy_trainer_config

CPU = DistEnv(device=torch.device("cpu"))


def test_a_nan_loss_stops_with_the_step_number_and_keeps_the_last_good_checkpoint(tmp_path):
    calls = {"n": 0}

    def poisoned_step(model, batch):
        calls["n"] += 1
        out = toy_step(model, batch)
        if calls["n"] == 5:
            out.loss = out.loss * float("nan")
        return out

    torch.manual_seed(0)
    model = ToyModel()
    trainer = Trainer(toy_trainer_config(max_steps=10, ckpt_every=2, keep_last=2), model, poisoned_step,
                      toy_loader(ToyRegression(), 4), tmp_path, env=CPU)
    with pytest.raises(NonFiniteLossError, match=r"step 5 .*ckpt_000000004\.pt"):
        trainer.fit()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert (tmp_path / "latest.txt").read_text().strip() == "ckpt_000000004.pt"
    assert all(torch.isfinite(v).all() for v in before.values())  # the poisoned update was never applied


def test_gradient_accumulation_equals_one_step_on_the_larger_batch(tmp_path):
    def run(batch, accum, sub):
        torch.manual_seed(0)
        model = ToyModel(dropout=0.0)
        cfg = toy_trainer_config(max_steps=4, grad_accum=accum)
        data = ToyRegression()
        loader = DataLoader(data, batch_sampler=BucketBatchSampler(None, batch, num_items=len(data), shuffle=False))
        Trainer(cfg, model, toy_step, loader, tmp_path / sub, env=CPU).fit()
        return model.state_dict()

    big = run(8, 1, "big")
    accumulated = run(4, 2, "acc")
    for k in big:
        assert torch.allclose(big[k], accumulated[k], atol=1e-6), k


def test_bf16_autocast_trains_on_cpu_and_logs_throughput(tmp_path):
    torch.manual_seed(0)
    model = ToyModel(dropout=0.0)
    cfg = toy_trainer_config(max_steps=3, precision="bf16", log_every=3)
    Trainer(cfg, model, toy_step, toy_loader(ToyRegression(), 4), tmp_path, env=CPU).fit()
    record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 3 and math.isfinite(record["loss"]) and record["samples_per_s"] > 0


def test_validation_runs_in_eval_mode_without_gradients_and_is_logged(tmp_path):
    seen = {}

    def val_fn(model):
        seen["training"], seen["grad"] = model.training, torch.is_grad_enabled()
        return {"val_loss": 1.5}

    cfg = toy_trainer_config(max_steps=4, val_every=2)
    Trainer(cfg, ToyModel(), toy_step, toy_loader(ToyRegression(), 4), tmp_path, env=CPU, val_fn=val_fn).fit()
    assert seen == {"training": False, "grad": False}
    vals = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines() if '"val"' in x]
    assert [v["step"] for v in vals] == [2, 4] and vals[0]["val_loss"] == 1.5


def test_step_metrics_are_averaged_into_the_log(tmp_path):
    def step(model, batch):
        out = toy_step(model, batch)
        return StepOutput(loss=out.loss, metrics={"half": out.loss.detach() / 2}, samples=out.samples)

    Trainer(toy_trainer_config(max_steps=2, log_every=1), ToyModel(), step, toy_loader(ToyRegression(), 4),
            tmp_path, env=CPU).fit()
    rec = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    assert rec["half"] == pytest.approx(rec["loss"] / 2, rel=1e-5)


def test_a_spent_time_budget_ends_the_run_with_validation_and_a_checkpoint(tmp_path):
    seen = {}

    def val_fn(model):
        seen["logger"] = trainer.logger
        return {"val_loss": 1.0}

    cfg = toy_trainer_config(max_steps=50, max_time_s=1e-9, val_every=0)
    trainer = Trainer(cfg, ToyModel(), toy_step, toy_loader(ToyRegression(), 4), tmp_path, env=CPU, val_fn=val_fn)
    state = trainer.fit()
    assert state.step == 1
    assert (tmp_path / "latest.txt").read_text().strip() == "ckpt_000000001.pt"
    assert seen["logger"] is not None  # hooks (audio, images) can log through the run's logger
    resumed = Trainer(toy_trainer_config(max_steps=3), ToyModel(), toy_step, toy_loader(ToyRegression(), 4),
                      tmp_path, env=CPU).fit()
    assert resumed.step == 3
