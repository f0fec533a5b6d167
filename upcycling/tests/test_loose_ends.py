"""Loose ends of issue 18: overwrite refusal, --init-from of an upcycled file, one RouterOrder, one set of
router spellings, and a train.py docstring that names configs that exist."""

import re
import runpy
from pathlib import Path

import pytest
import torch

from ninerepro.train.checkpoint import save_checkpoint
from upcycling.checkpoints import initial_state
from upcycling.cli import main as cli_main
from upcycling.config import GPTConfig, MoEConfig
from upcycling.model import build_model
from upcycling.prepare import prepare_tokens

ROOT = Path(__file__).resolve().parents[1]
CFG = GPTConfig(n_layers=1, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=16)


@pytest.fixture
def dense_ckpt(tmp_path):
    state = {"model": build_model(CFG).state_dict(), "config": {"model": CFG.__dict__, "moe": None}}
    return save_checkpoint(state, tmp_path / "dense", 1)


def test_upcycle_refuses_to_overwrite_its_output_unless_asked(dense_ckpt, tmp_path, capsys):
    out = tmp_path / "m.pt"
    out.write_bytes(b"precious")
    assert cli_main(["upcycle", "--dense", str(dense_ckpt), "--out", str(out), "--moe", "E2G1T1"]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"precious"
    assert cli_main(["upcycle", "--dense", str(dense_ckpt), "--out", str(out), "--moe", "E2G1T1", "--overwrite"]) == 0
    assert torch.load(out, weights_only=True)["format"] == "repro-checkpoint"


def test_the_output_of_upcycle_is_a_valid_init_from_for_the_same_moe(dense_ckpt, tmp_path):
    out = tmp_path / "m.pt"
    assert cli_main(["upcycle", "--dense", str(dense_ckpt), "--out", str(out), "--moe", "E2G2T2",
                     "--router", "topk-softmax"]) == 0
    moe = MoEConfig.from_notation("E2G2T2", router_order="topk_softmax")
    sd = initial_state(out, CFG, moe, weight_scaling=True, router_init_std=0.02, seed=0)
    written = torch.load(out, weights_only=True)["model"]
    assert torch.equal(sd["layers.0.mlp.experts.w1"], written["layers.0.mlp.experts.w1"])
    build_model(CFG, moe).load_state_dict(sd, strict=True)
    with pytest.raises(ValueError, match=r"already an MoE \(E2G2T2"):
        initial_state(out, CFG, MoEConfig.from_notation("E8G1T2"), weight_scaling=True, router_init_std=0.02, seed=0)


def test_train_py_refuses_a_foreign_init_from_in_one_line_naming_commands_that_exist(tmp_path, capsys):
    files = []
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text(f"x = {i}\n" * 400)
        files.append(str(tmp_path / f"{i}.txt"))
    prepare_tokens(files, tmp_path / "t.bin", val_fraction=0.25)
    junk = tmp_path / "junk.pt"
    torch.save({"model": {}}, junk)
    main = runpy.run_path(str(ROOT / "train.py"))["main"]
    code = main(["-c", str(ROOT / "configs" / "tiny.json"), "--run-dir", str(tmp_path / "run"), "--init-from",
                 str(junk), f"data.path={tmp_path / 't.bin'}", "data.batch_size=2", "data.val_batches=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "convert.py" not in err[0] and "`upcycle upcycle`" in err[0] and "train.py" in err[0]


def test_router_order_is_defined_once_and_every_command_takes_both_spellings(dense_ckpt, tmp_path):
    from upcycling import config
    from upcycling.hf import layouts

    assert layouts.RouterOrder is config.RouterOrder
    defs = [p for p in (ROOT / "src").rglob("*.py") if re.search(r"^RouterOrder\s*=", p.read_text(), re.M)]
    assert [p.name for p in defs] == ["config.py"]
    assert MoEConfig(router_order="softmax-topk").router_order == "softmax_topk"
    for spelling in ("topk-softmax", "topk_softmax"):
        out = tmp_path / f"{spelling}.pt"
        assert cli_main(["upcycle", "--dense", str(dense_ckpt), "--out", str(out), "--moe", "E2G1T1",
                         "--router", spelling]) == 0
        assert torch.load(out, weights_only=True)["config"]["moe"]["router_order"] == "topk_softmax"
    from upcycling.cli import build_parser

    convert_choices = next(a for a in build_parser()._subparsers._group_actions[0].choices["convert"]._actions
                           if a.dest == "router").choices
    assert set(convert_choices) == set(config.ROUTER_SPELLINGS)


def test_the_train_py_docstring_names_only_configs_that_exist():
    names = re.findall(r"configs/[\w.]+\.json", (ROOT / "train.py").read_text())
    assert names and all((ROOT / n).is_file() for n in names), names
