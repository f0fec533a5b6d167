"""Every refusal names the offending value and the fix, before any work is done."""

import json

import pytest
import torch

from ninerepro.train import ConfigError, load_config
from upcycling.cli import main as cli_main
from upcycling.config import GPTConfig, MoEConfig, RunConfig
from upcycling.prepare import load_tokenizer, prepare_tokens


def test_a_granularity_that_does_not_divide_ffn_hidden_fails_at_config_load(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"model": {"ffn_hidden": 100}, "moe": {"num_experts": 24, "topk": 3, "granularity": 3}}))
    with pytest.raises(ValueError, match=r"granularity=3 does not divide model\.ffn_hidden=100"):
        load_config(RunConfig, p)


def test_an_unknown_config_key_is_named(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"moe": {"num_expert": 8}}))
    with pytest.raises(ConfigError, match="num_expert"):
        load_config(RunConfig, p)


@pytest.mark.parametrize(("section", "match"), [
    ({"init": {"glu_scaling": "cuberoot"}}, r"init\.glu_scaling='cuberoot'"),
    ({"model": {"activation": "squared_relu"}, "init": {"glu_scaling": "exact"}}, "needs a gated MLP"),
])
def test_a_glu_scaling_that_cannot_apply_is_refused_at_load(tmp_path, section, match):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(section))
    with pytest.raises(ValueError, match=match):
        load_config(RunConfig, p)


def test_a_bad_router_order_is_refused_at_load(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"moe": {"router_order": "pre_softmax"}}))
    with pytest.raises(ValueError, match="softmax_topk"):
        load_config(RunConfig, p)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(num_experts=4, topk=5), "exceeds"),
    (dict(num_experts=0), ">= 1"),
    (dict(capacity_factor=0.0), "capacity_factor"),
])
def test_inconsistent_moe_fields_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MoEConfig(**kwargs)


def test_a_malformed_paper_name_is_refused():
    with pytest.raises(ValueError, match="like E8G1T2"):
        MoEConfig.from_notation("8x2")


def test_heads_that_do_not_divide_hidden_are_refused():
    with pytest.raises(ValueError, match=r"not divisible by model\.n_heads"):
        GPTConfig(hidden=30, n_heads=4)


def test_a_window_longer_than_max_seq_len_is_refused(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"model": {"max_seq_len": 64}, "data": {"seq_len": 128}}))
    with pytest.raises(ValueError, match=r"data\.seq_len=128 exceeds model\.max_seq_len=64"):
        load_config(RunConfig, p)


def test_prepare_names_a_file_that_is_not_utf8(tmp_path):
    good, bad = tmp_path / "a.txt", tmp_path / "b.txt"
    good.write_text("hello " * 10)
    bad.write_bytes(b"ok \xff\xfe broken")
    with pytest.raises(ValueError, match=r"b\.txt: not UTF-8"):
        prepare_tokens([str(good), str(bad)], tmp_path / "t.bin")
    assert not (tmp_path / "t.bin").exists()


def test_prepare_refuses_a_missing_tokenizer_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither 'byte' nor an existing local folder"):
        load_tokenizer(str(tmp_path / "nope"))


def test_prepare_refuses_too_few_documents_for_a_split(tmp_path):
    (tmp_path / "a.txt").write_text("x" * 100)
    with pytest.raises(ValueError, match="too few"):
        prepare_tokens([str(tmp_path / "a.txt")], tmp_path / "t.bin")


def test_the_upcycle_command_refuses_t_not_a_multiple_of_g_with_exit_code_2(tmp_path, capsys):
    from ninerepro.train.checkpoint import save_checkpoint
    from upcycling.model import build_model

    cfg = GPTConfig(n_layers=1, hidden=32, n_heads=4, ffn_hidden=64)
    state = {"model": build_model(cfg).state_dict(), "config": {"model": cfg.__dict__, "moe": None}}
    path = save_checkpoint(state, tmp_path, 1)
    code = cli_main(["upcycle", "--dense", str(path), "--out", str(tmp_path / "m.pt"), "--moe", "E2G4T2"])
    assert code == 2 and "T=2 is not a multiple of granularity G=4" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()
    assert cli_main(["upcycle", "--dense", str(path), "--out", str(tmp_path / "m.pt"), "--moe", "E2G2T2"]) == 0
    assert torch.load(tmp_path / "m.pt", weights_only=True)["model"]["layers.0.mlp.router.weight"].shape == (4, 32)
    code = cli_main(["upcycle", "--dense", str(path), "--out", str(tmp_path / "x.pt"), "--moe", "E2G2T2",
                     "--glu-scaling", "exact"])  # the checkpoint's MLP is squared-ReLU, not gated
    assert code == 2 and "needs a gated MLP" in capsys.readouterr().err


def test_upcycling_an_moe_checkpoint_is_refused(tmp_path, capsys):
    from ninerepro.train.checkpoint import save_checkpoint
    from upcycling.model import build_model

    cfg = GPTConfig(n_layers=1, hidden=32, n_heads=4, ffn_hidden=64)
    moe = MoEConfig.from_notation("E2G1T1")
    state = {"model": build_model(cfg, moe).state_dict(), "config": {"model": cfg.__dict__, "moe": moe.__dict__}}
    path = save_checkpoint(state, tmp_path, 1)
    assert cli_main(["upcycle", "--dense", str(path), "--out", str(tmp_path / "m.pt"), "--moe", "E8G1T2"]) == 2
    assert "already an MoE" in capsys.readouterr().err


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert cli_main(["upcycle", "--dense", str(junk), "--out", str(tmp_path / "m.pt"), "--moe", "E8G1T2"]) == 2
    assert "cannot be read" in capsys.readouterr().err
