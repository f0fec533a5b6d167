import json
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _parse(argv):
    return runpy.run_path(str(ROOT / "train.py"))["parse"](argv)


def test_upcycle_flag_builds_the_moe_from_the_paper_name():
    cfg, run_dir = _parse(["-c", str(ROOT / "configs" / "tiny.json"), "--run-dir", "r", "--upcycle", "E8G8T8",
                           "--init-from", "dense.pt", "train.max_steps=7"])
    assert (cfg.moe.num_experts, cfg.moe.granularity, cfg.moe.topk) == (64, 8, 8)
    assert cfg.init.init_from == "dense.pt" and cfg.train.max_steps == 7 and run_dir == "r"


def test_upcycle_flag_keeps_the_config_router_order_and_losses(tmp_path):
    c = json.loads((ROOT / "configs" / "tiny.json").read_text())
    c["moe"] = {"router_order": "topk_softmax", "aux_loss_coeff": 1e-3}
    (tmp_path / "c.json").write_text(json.dumps(c))
    cfg, _ = _parse(["-c", str(tmp_path / "c.json"), "--run-dir", "r", "--upcycle", "E8G1T2"])
    assert cfg.moe.router_order == "topk_softmax" and cfg.moe.aux_loss_coeff == 1e-3 and cfg.moe.num_experts == 8


def test_every_shipped_config_loads():
    from ninerepro.train import load_config
    from upcycling.config import RunConfig

    for path in sorted((ROOT / "configs").glob("*.json")):
        load_config(RunConfig, path)
