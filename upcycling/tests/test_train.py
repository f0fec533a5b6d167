import dataclasses

import pytest
import torch

from ninerepro.train import OptimizerConfig, TrainerConfig
from upcycling.config import DataConfig, GPTConfig, InitConfig, MoEConfig, RunConfig
from upcycling.train import run


def _cfg(tokens, moe=None, steps=4, **train):
    model = GPTConfig(vocab_size=256, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=16)
    tr = TrainerConfig(max_steps=steps, device="cpu", precision="fp32", log_every=1, ckpt_every=2, keep_last=0,
                       tensorboard=False, progress=False, optimizer=OptimizerConfig(name="adamw", lr=1e-3), **train)
    return RunConfig(model=model, moe=moe, data=DataConfig(path=tokens, seq_len=16, batch_size=4, val_batches=2),
                     train=tr)


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_a_tiny_moe_run_trains_and_logs_expert_load(tokens, tmp_path):
    trainer = run(_cfg(tokens, MoEConfig.from_notation("E4G1T2")), tmp_path / "run")
    assert trainer.state.step == 4
    log = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert "moe/layer1/max_load" in log and "aux_loss" in log and '"split": "val"' in log


def test_a_resumed_run_equals_an_uninterrupted_one(tokens, tmp_path):
    moe = MoEConfig.from_notation("E4G2T2")
    full = _weights(run(_cfg(tokens, moe, steps=4), tmp_path / "full"))
    run(_cfg(tokens, moe, steps=2), tmp_path / "cut")
    resumed = _weights(run(_cfg(tokens, moe, steps=4), tmp_path / "cut"))
    for k in full:
        torch.testing.assert_close(resumed[k], full[k], rtol=0, atol=0, msg=k)


def test_resuming_with_a_different_moe_config_is_a_clear_error(tokens, tmp_path):
    run(_cfg(tokens, MoEConfig.from_notation("E4G1T2"), steps=2), tmp_path / "r")
    with pytest.raises(ValueError, match=r"cannot resume .*moe=.*topk.*start a new --run-dir"):
        run(_cfg(tokens, MoEConfig.from_notation("E4G1T1"), steps=4), tmp_path / "r")
    with pytest.raises(ValueError, match="dense"):
        run(_cfg(tokens, None, steps=4), tmp_path / "r")


def test_init_from_a_dense_checkpoint_upcycles_it_at_step_zero(tokens, tmp_path):
    dense = run(_cfg(tokens, steps=2), tmp_path / "dense")
    ckpt = str(dense.last_checkpoint)
    cfg = _cfg(tokens, MoEConfig.from_notation("E4G1T2", router_order="topk_softmax"), steps=1)
    cfg = dataclasses.replace(cfg, init=InitConfig(init_from=ckpt))
    from upcycling.train import build_model_for_run

    moe_model = build_model_for_run(cfg, tmp_path / "moe").eval()
    x = torch.randint(0, 256, (2, 16))
    torch.testing.assert_close(moe_model(x).logits, dense.model.eval()(x).logits, atol=1e-5, rtol=0)
    run(cfg, tmp_path / "moe")


def test_init_from_a_checkpoint_of_another_shape_names_the_field(tokens, tmp_path):
    dense = run(_cfg(tokens, steps=2), tmp_path / "dense")
    cfg = _cfg(tokens, MoEConfig.from_notation("E4G1T2"), steps=1)
    cfg.model.ffn_hidden = 128
    cfg = dataclasses.replace(cfg, init=InitConfig(init_from=str(dense.last_checkpoint)))
    with pytest.raises(ValueError, match=r"model\.ffn_hidden: run 128 vs checkpoint 64"):
        run(cfg, tmp_path / "moe")
