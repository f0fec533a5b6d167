import json

import pytest

from upcycling.experiments import CONFIG, run_suite
from upcycling.prepare import prepare_tokens


@pytest.mark.slow
def test_the_full_suite_runs_end_to_end_on_a_tiny_config_and_reuses_finished_runs(tmp_path):
    base = json.loads(CONFIG.read_text())
    base["train"].update(max_steps=8, log_every=2, val_every=4, ckpt_every=4)
    base["data"].update(val_batches=1, seq_len=16, batch_size=2)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(base))
    files = []
    for i in range(6):
        (tmp_path / f"{i}.txt").write_text(f"x = {i}\n" * 200)
        files.append(str(tmp_path / f"{i}.txt"))
    prepare_tokens(files, tmp_path / "t.bin", val_fraction=0.34)
    table = run_suite("full", str(tmp_path / "out"), str(tmp_path / "t.bin"), jobs=2, config=cfg)
    assert table.count("\n") == 2 + 7  # header, rule, pretrain + 7 arms
    for group in "abcd":
        assert (tmp_path / "out" / f"curves_full_{group}.png").stat().st_size > 1000
    done = tmp_path / "out" / "runs" / "E8G1T2" / "done.json"
    before = done.read_text()
    run_suite("demo", str(tmp_path / "out"), str(tmp_path / "t.bin"), jobs=1, config=cfg)
    assert done.read_text() == before  # the demo's arms are the full suite's, not retrained


def test_the_seed_table_reports_mean_spread_and_the_per_seed_gap_to_dense():
    from upcycling.experiments import ARMS, _seed_table

    arms = ARMS["demo"]
    results = {}
    for i, (d, m) in enumerate([(1.30, 1.27), (1.32, 1.28), (1.31, 1.29)]):
        for arm, v in zip(arms, (d, m)):
            results[arm.name if i == 0 else f"{arm.name}-seed{i}"] = {"val_loss": v, "val_loss_start": 1.4}
    pre = {"val_loss_start": 5.5, "val_loss": 1.4}
    table = _seed_table(arms, results, pre, 3)
    assert "1.3100 ± 0.0100 (3)" in table and "1.2800 ± 0.0100 (3)" in table
    assert "1.3000, 1.3200, 1.3100" in table and "-2.29% ± 0.75" in table


def test_the_options_suite_sets_one_option_per_arm_and_shares_the_demos_runs(tmp_path):
    import dataclasses

    from upcycling.experiments import ARMS, arm_config, base_config

    base = base_config(str(tmp_path / "t.bin"), "cpu")
    cfgs = {a.name: arm_config(base, a, "dense.pt", 10) for a in ARMS["options"]}
    demo = {a.name: arm_config(base, a, "dense.pt", 10) for a in ARMS["demo"]}
    for name in demo:  # same folder name, same config: the demo's finished runs are reused, not retrained
        assert dataclasses.asdict(cfgs[name]) == dataclasses.asdict(demo[name])
    shared, every, biased = (cfgs[n].moe for n in ("E8G1T1-shared1", "E8G1T2-every2", "E8G1T2-expertbias"))
    assert (shared.topk, shared.shared_experts, shared.beyond_paper()) == (1, 1, ["moe.shared_experts=1"])
    assert every.moe_layers(base.model.n_layers) == [0, 2] and every.beyond_paper() == ["moe.moe_every=2"]
    assert biased.expert_bias and biased.aux_loss_coeff == 0.0 and biased.expert_bias_rate == 1e-3
