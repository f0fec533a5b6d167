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
