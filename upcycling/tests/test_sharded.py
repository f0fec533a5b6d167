"""Our GPT at a size that needs many GPUs, checked on CPU: meta-device build, per-shard loading with 2 gloo
ranks, FSDP2 training through train.py, activation checkpointing, and the dry-run memory table."""

import dataclasses
import json
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from ninerepro.train import OptimizerConfig, TrainerConfig
from ninerepro.train.checkpoint import save_checkpoint
from upcycling.config import DataConfig, GPTConfig, InitConfig, MoEConfig, RunConfig
from upcycling.distributed_check import sharded_load_worker, train_worker
from upcycling.model import build_model
from upcycling.upcycle import upcycle_state_dict

ROOT = Path(__file__).resolve().parents[1]
CFG = GPTConfig(vocab_size=256, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=16, rotary_percent=0.5)
MOE = MoEConfig.from_notation("E4G2T2")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_ranks(worker, *args) -> None:
    """Run ``worker(rank, 2, port, *args)`` on 2 forked gloo ranks: they inherit this process's imports
    (torch.distributed, FSDP), where two spawned interpreters spent ~40 s importing them again."""
    import torch.distributed.fsdp  # noqa: F401  (imported once here, inherited by both ranks)

    mp.start_processes(worker, args=(2, _free_port(), *args), nprocs=2, join=True, start_method="fork")


@pytest.fixture
def dense_file(tmp_path):
    torch.manual_seed(0)
    model = build_model(CFG)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    state = {"model": model.state_dict(), "config": {"model": CFG.__dict__, "moe": None}}
    return save_checkpoint(state, tmp_path / "dense", 1)


def test_two_gloo_ranks_build_on_meta_and_load_their_shards_equal_to_the_in_memory_upcycle(dense_file, tmp_path):
    run_json = json.dumps(dataclasses.asdict(RunConfig(model=CFG, moe=MOE, data=DataConfig(seq_len=16),
                                                       train=TrainerConfig(seed=0))))
    _two_ranks(sharded_load_worker, run_json, str(dense_file), str(tmp_path))
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    dense = torch.load(dense_file, weights_only=True)["model"]
    want = upcycle_state_dict(dense, CFG, MOE, generator=torch.Generator().manual_seed(0))
    assert r0["full"].keys() == want.keys()
    for k in want:
        assert torch.equal(r0["full"][k], want[k]) and torch.equal(r1["full"][k], want[k]), k
        if want[k].shape[0] > 1:  # each rank held half of every sharded tensor, not a copy
            assert r0["local"][k] + r1["local"][k] == want[k].numel() and r0["local"][k] < want[k].numel(), k
    ref = build_model(CFG, MOE).eval()
    ref.load_state_dict(want)
    with torch.no_grad():
        torch.testing.assert_close(r0["logits"], ref(torch.arange(32).view(2, 16) % 256).logits)


def test_train_py_runs_fsdp2_with_meta_init_and_activation_checkpointing_on_two_gloo_ranks(dense_file, tmp_path):
    from upcycling.prepare import prepare_tokens

    files = []
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text(f"def f{i}(x):\n    return x + {i}\n" * 50)
        files.append(str(tmp_path / f"{i}.txt"))
    prepare_tokens(files, tmp_path / "t.bin", val_fraction=0.25)
    cfg = RunConfig(model=CFG, moe=MOE, data=DataConfig(path=str(tmp_path / "t.bin"), seq_len=16, batch_size=2,
                                                        val_batches=1),
                    init=InitConfig(init_from=str(dense_file)),
                    train=TrainerConfig(max_steps=2, device="cpu", precision="fp32", fsdp=True, log_every=1,
                                        ckpt_every=2, keep_last=2, tensorboard=False, progress=False,
                                        optimizer=OptimizerConfig(name="adamw", lr=1e-3)))
    cfg.scale.activation_checkpointing = True
    _two_ranks(train_worker, json.dumps(dataclasses.asdict(cfg)), str(tmp_path / "run"))
    r0, r1 = (torch.load(tmp_path / "run" / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["step"] == r1["step"] == 2
    start = upcycle_state_dict(torch.load(dense_file, weights_only=True)["model"], CFG, MOE,
                               generator=torch.Generator().manual_seed(0))
    assert r0["model"].keys() == start.keys()
    for k in start:  # rank 0 gathered both ranks' shards (full state dict); every tensor moved off the start
        assert r0["model"][k].shape == start[k].shape and torch.isfinite(r0["model"][k]).all(), k
        assert not torch.equal(r0["model"][k], start[k]), k
    saved = torch.load(tmp_path / "run" / "ckpt_000000002.pt", weights_only=True)
    for k in start:
        assert torch.equal(saved["model"][k], r0["model"][k]), k


def test_activation_checkpointing_gives_the_same_loss_and_gradients():
    from upcycling.loss import total_loss

    model = build_model(CFG, MOE)
    tokens, targets = torch.randint(0, 256, (2, 16)), torch.randint(0, 256, (2, 16))
    grads = []
    for ckpt in (False, True):
        model.zero_grad()
        model.layers.checkpointing = ckpt
        loss, _ = total_loss(model(tokens), targets)
        loss.backward()
        grads.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.equal(grads[0][0], grads[1][0])
    for a, b in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_the_dry_run_prints_per_gpu_memory_of_the_15b_config_for_8_and_64_gpus(capsys):
    import runpy

    main = runpy.run_path(str(ROOT / "train.py"))["main"]
    assert main(["-c", str(ROOT / "configs" / "nemotron4_15b_e8g1t2.json"), "--run-dir", "unused", "--dry-run"]) == 0
    out = capsys.readouterr().out
    print(out)
    assert "E8G1T2: 83.28 B parameters" in out
    rows = [line for line in out.splitlines() if line.startswith("| 8 |") or line.startswith("| 64 |")]
    assert len(rows) == 2 and rows[0].endswith("| no |") and rows[1].endswith("| yes |")


def test_the_memory_estimate_scales_the_sharded_state_with_the_gpu_count():
    from upcycling.memory import count_params, estimate

    cfg = RunConfig(model=CFG, moe=MOE, data=DataConfig(seq_len=16))
    total, _, _ = count_params(cfg)
    assert total == sum(p.numel() for p in build_model(CFG, MOE).parameters())
    assert estimate(cfg, 2).sharded_state_gb == pytest.approx(2 * estimate(cfg, 4).sharded_state_gb)
    assert estimate(cfg, 2).sharded_state_gb == pytest.approx(16 * total / 2 / 1e9)
