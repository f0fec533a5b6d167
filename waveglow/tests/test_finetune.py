"""Fine-tuning: ``--init-from`` starts training exactly where an official (or our) checkpoint is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_train import SMALL, TINY, write_corpus

from ninerepro.train import Trainer, load_config
from waveglow.config import WaveGlowConfig
from waveglow.convert import convert_main
from waveglow.train import build_model, describe_run, init_from, main, make_step_fn

FIXTURES = Path(__file__).parent / "fixtures"
# The official-format fixture's network (fixtures/README.md), in override form.
FIXTURE_MODEL = ["model.n_mel_channels=4", "model.n_flows=4", "model.n_early_every=2", "model.n_early_size=2",
                 "model.wn.n_layers=2", "model.wn.n_channels=16", "model.wn.kernel_size=3"]


def fixture_config(*extra: str) -> WaveGlowConfig:
    return load_config(WaveGlowConfig, TINY, [*FIXTURE_MODEL, "train.log_every=1", "train.max_steps=1",
                                              "train.progress=false", "train.tensorboard=false", *extra])


@pytest.mark.parametrize("source", ["official pickle", "DLE state dict", "ours"])
def test_first_nll_after_init_from_equals_the_official_models_nll_on_the_same_batch(tmp_path, source):
    official = torch.load(FIXTURES / "official_outputs.pt", weights_only=True)
    path = FIXTURES / "official_tiny.pt"
    if source != "official pickle":
        target = "official-state-dict" if source == "DLE state dict" else "ours"
        assert convert_main([str(path), str(tmp_path / "w.pt"), "--to", target]) == 0
        path = tmp_path / "w.pt"
    cfg = fixture_config()
    model = init_from(build_model(cfg), path, cfg)
    assert any("parametrizations" in k for k in model.state_dict())  # weight norm re-applied: trainable as glow.py
    batch = [(official["mel"], official["audio"])]  # the batch the official NLL was computed on
    trainer = Trainer(cfg.train, model, make_step_fn(cfg), batch, tmp_path / "run")
    assert trainer.optimizer.state_dict()["state"] == {} and trainer.state.step == 0  # fresh optimizer, step 0
    trainer.fit()
    first = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert first["step"] == 1
    assert first["loss"] == pytest.approx(float(official["nll_sigma_1.0"]), abs=1e-5)


def test_train_cli_fine_tunes_then_resumes_and_reports_bad_input_in_one_line(tmp_path, capsys):
    train, _ = write_corpus(tmp_path)
    args = ["-c", str(TINY), *SMALL[3:], *FIXTURE_MODEL, f"data.training_files={train}", "data.validation_files=",
            "train.max_steps=2", "--run-dir", str(tmp_path / "run")]
    assert main([*args, "--init-from", str(FIXTURES / "official_tiny.pt")]) == 0
    out = capsys.readouterr().out
    assert "effective global batch 2 = 2 per process x 1 accumulation x 1 process(es) on cpu; precision fp32" in out
    assert main([*args[:-2], "train.max_steps=3", "--run-dir", str(tmp_path / "run"),
                 "--init-from", str(FIXTURES / "official_tiny.pt")]) == 0  # resumes; the flag is ignored
    assert "trained to step 3" in capsys.readouterr().out
    bad = [["-c", str(TINY), "--init-from", str(FIXTURES / "official_tiny.pt"), f"data.training_files={train}",
            "--run-dir", str(tmp_path / "r2")],  # tiny.json's 80-mel network does not fit the 4-mel fixture
           ["-c", str(TINY), "no.such.key=1"],
           ["-c", str(TINY), "--init-from", str(tmp_path / "missing.pt")]]
    for argv in bad:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_run_header_names_global_batch_per_gpu_batch_and_precision():
    from ninerepro.train import DistEnv

    cfg = load_config(WaveGlowConfig, Path(__file__).parents[1] / "configs" / "ljs_256.json",
                      ["data.batch_size=3", "train.precision=fp16"])
    env = DistEnv(rank=0, local_rank=0, world_size=8, device=torch.device("cuda", 0))
    assert describe_run(cfg, env).startswith("effective global batch 24 = 3 per process x 1 accumulation x 8 "
                                             "process(es) on cuda; precision fp16")
