"""Training end to end on a tiny synthetic corpus: the loss falls, validation runs, resume is exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ninerepro.audio import save_wav
from ninerepro.train import load_config
from ninerepro.train.cli import default_run_dir
from waveglow.config import WaveGlowConfig
from waveglow.train import main, run

TINY = Path(__file__).parents[1] / "configs" / "tiny.json"
# Smaller than tiny.json so each test trains in a few seconds on two cores.
SMALL = ["model.n_flows=2", "model.wn.n_layers=2", "model.wn.n_channels=8", "data.segment_length=1024",
         "data.batch_size=2", "train.log_every=1", "train.progress=false", "train.tensorboard=false"]


def write_corpus(folder: Path, n: int = 4) -> tuple[Path, Path]:
    """Noisy harmonic tones at 22050 Hz, three clips for training and one for validation."""
    lines = []
    for i in range(n):
        t = np.arange(int(0.4 * 22050)) / 22050
        wav = 0.2 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.02 * np.random.default_rng(i).normal(size=len(t))
        path = folder / f"utt{i}.wav"
        save_wav(path, wav.astype(np.float32), 22050)
        lines.append(f"{path}|text {i}\n")
    train, val = folder / "train.txt", folder / "val.txt"
    train.write_text("".join(lines[:-1]), encoding="utf-8")
    val.write_text(lines[-1], encoding="utf-8")
    return train, val


def tiny_config(tmp_path: Path, *extra: str) -> WaveGlowConfig:
    train, val = write_corpus(tmp_path)
    return load_config(WaveGlowConfig, TINY, [*SMALL, f"data.training_files={train}",
                                              f"data.validation_files={val}", *extra])


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def audio_events(tb_dir: Path) -> dict[str, list[int]]:
    """TensorBoard audio tag -> the steps it was logged at, over every event file of the folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps: dict[str, list[int]] = {}
    for events in tb_dir.glob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in acc.Tags().get("audio", []):
            steps.setdefault(tag, []).extend(event.step for event in acc.Audio(tag))
    return steps


def audio_tags(tb_dir: Path) -> set[str]:
    return set(audio_events(tb_dir))


def test_training_lowers_the_nll_and_logs_validation(tmp_path):
    cfg = tiny_config(tmp_path, "train.max_steps=8", "train.tensorboard=true")
    trainer = run(cfg, tmp_path / "run")
    assert trainer.state.step == 8
    records = read_metrics(tmp_path / "run")
    train_losses = [r["loss"] for r in records if r["split"] == "train"]
    assert train_losses[-1] < train_losses[0]
    val = [r for r in records if r["split"] == "val"]
    assert len(val) == 1 and np.isfinite(val[0]["loss"])
    assert audio_tags(tmp_path / "run" / "tensorboard") == {"val/sample_0"}  # one validation clip, one sample
    # the audio goes through the trainer's own logger (one event file), at the step that was validated
    assert len(list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert audio_events(tmp_path / "run" / "tensorboard") == {"val/sample_0": [8]}
    throughput = [r["audio_seconds_per_s"] for r in records if "audio_seconds_per_s" in r]
    assert throughput and all(v > 0 for v in throughput)


def test_resumed_training_equals_an_uninterrupted_run(tmp_path):
    straight = run(tiny_config(tmp_path, "train.max_steps=4"), tmp_path / "straight")
    run(tiny_config(tmp_path, "train.max_steps=2"), tmp_path / "resumed")
    resumed = run(tiny_config(tmp_path, "train.max_steps=4"), tmp_path / "resumed")
    assert resumed.state.step == 4
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_command_line_trains_and_names_the_run_after_config_and_overrides(tmp_path, monkeypatch):
    train, _ = write_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["-c", str(TINY), *SMALL, "train.max_steps=1", f"data.training_files={train}", "data.validation_files="]
    assert main(args) == 0
    run_dir = default_run_dir(str(TINY), args[2:])
    assert run_dir.parts[0] == "runs" and run_dir.name.startswith("tiny+model.n_flows=2")
    assert (tmp_path / run_dir / "config.json").is_file()
    assert any((tmp_path / run_dir).glob("ckpt_*.pt"))


def test_unknown_config_keys_are_refused_before_training(tmp_path, capsys):
    assert main(["-c", str(TINY), "model.n_flow=3", "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown config key 'model.n_flow'") and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match=r"model\.n_flow"):  # --debug: the exception itself
        main(["-c", str(TINY), "model.n_flow=3", "--run-dir", str(tmp_path / "r"), "--debug"])


def test_a_spent_time_budget_ends_training_with_a_checkpoint_of_the_last_step(tmp_path):
    trainer = run(tiny_config(tmp_path, "train.max_steps=50", "train.max_time_s=1e-9"), tmp_path / "run")
    assert trainer.state.step == 1
    assert trainer.last_checkpoint is not None and trainer.last_checkpoint.name == "ckpt_000000001.pt"
    assert any(r["split"] == "val" for r in read_metrics(tmp_path / "run"))  # the final validation still ran


def test_time_budget_flag_sets_the_wall_clock_limit_and_rerunning_resumes(tmp_path, monkeypatch):
    train, val = write_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    overrides = [*SMALL, "train.max_steps=3", f"data.training_files={train}", f"data.validation_files={val}"]
    assert main(["-c", str(TINY), *overrides, "--time-budget", "1e-9"]) == 0
    run_dir = tmp_path / default_run_dir(str(TINY), overrides)  # the flag does not rename the run folder
    assert [p.name for p in run_dir.glob("ckpt_*.pt")] == ["ckpt_000000001.pt"]
    assert json.loads((run_dir / "config.json").read_text())["train"]["max_time_s"] == 1e-9
    assert main(["-c", str(TINY), *overrides]) == 0  # no budget this time: resumes and finishes
    assert sorted(p.name for p in run_dir.glob("ckpt_*.pt"))[-1] == "ckpt_000000003.pt"
    assert [r["step"] for r in read_metrics(run_dir) if r["split"] == "train"] == [1, 2, 3]
