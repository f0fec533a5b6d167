"""The demo's pretrained asset: made from a checkpoint with a frozen upsampler, rebuilt exactly, bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from wg_testkit import tiny_config

from ninerepro.train.config import to_dict
from waveglow.config import WaveGlowConfig, WaveGlowDataConfig
from waveglow.convert import save_converted
from waveglow.demo import TINY, main
from waveglow.demo_asset import ASSET, AssetError, load_asset, read_asset, save_asset
from waveglow.demo_asset import main as asset_main
from waveglow.train import build_model

ASSET_README = ASSET.parent / "README.md"


def small_cfg(**model) -> WaveGlowConfig:
    cfg = WaveGlowConfig(model=tiny_config(**model), data=WaveGlowDataConfig(filter_length=64, hop_length=16,
                                                                             win_length=64))
    cfg.freeze = ["upsample."]
    return cfg


def trained_checkpoint(tmp_path: Path, cfg: WaveGlowConfig, touch_upsampler: bool = False) -> tuple[Path, dict]:
    """One of our checkpoints whose non-frozen weights moved away from the seed (as training would move them)."""
    model = build_model(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if touch_upsampler or not name.startswith("upsample."):
                p.add_(0.01 * torch.randn_like(p))
    path = save_converted(cfg.model, model.state_dict(), tmp_path / "ckpt.pt", "test", 123, full_config=cfg)
    return path, {k: v.clone() for k, v in model.state_dict().items()}


def test_asset_stores_only_the_unfrozen_weights_and_rebuilds_the_model_exactly(tmp_path):
    cfg = small_cfg()
    ckpt, expected = trained_checkpoint(tmp_path, cfg)
    asset = save_asset(ckpt, tmp_path / "asset.pt", {"git": "abc"})
    payload = read_asset(asset)
    assert not any(k.startswith("upsample.") for k in payload["state"])
    assert all(v.dtype == torch.float32 for v in payload["state"].values())
    model, _ = load_asset(asset, cfg)
    got = model.state_dict()
    assert set(got) == set(expected) and all(torch.equal(got[k], expected[k]) for k in expected)


def test_prior_steps_count_the_updates_before_an_init_from_run(tmp_path, capsys):
    ckpt, _ = trained_checkpoint(tmp_path, small_cfg())
    payload = torch.load(ckpt, weights_only=False)
    torch.save({**payload, "loop": {"step": 123}}, ckpt)  # as the Trainer records its step
    assert read_asset(save_asset(ckpt, tmp_path / "a.pt"))["steps"] == 123
    assert read_asset(save_asset(ckpt, tmp_path / "b.pt", prior_steps=3250))["steps"] == 3373
    assert asset_main([str(ckpt), str(tmp_path / "c.pt"), "--prior-steps", "-1"]) == 2
    assert "--prior-steps -1: must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()


def test_an_upsampler_that_moved_cannot_be_left_out(tmp_path):
    ckpt, _ = trained_checkpoint(tmp_path, small_cfg(), touch_upsampler=True)
    with pytest.raises(AssetError, match="differs from its seeded initial value"):
        save_asset(ckpt, tmp_path / "asset.pt")


def test_an_asset_for_another_model_lists_the_difference(tmp_path):
    ckpt, _ = trained_checkpoint(tmp_path, small_cfg())
    asset = save_asset(ckpt, tmp_path / "asset.pt")
    with pytest.raises(AssetError, match=r"model.n_flows: 4 -> 6.*--from-scratch"):
        load_asset(asset, small_cfg(n_flows=6))


def test_a_different_seed_draw_is_caught_by_the_digests(tmp_path):
    ckpt, _ = trained_checkpoint(tmp_path, small_cfg())
    asset = save_asset(ckpt, tmp_path / "asset.pt")
    payload = torch.load(asset, weights_only=True)
    payload["rebuilt_from_seed"]["seed"] += 1
    torch.save(payload, asset)
    with pytest.raises(AssetError, match="does not match the asset"):
        load_asset(asset, small_cfg())


def test_a_corrupt_asset_is_one_line_with_exit_status_2_before_any_work(tmp_path, capsys):
    bad = tmp_path / "asset.pt"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    assert main(["--corpus", str(tmp_path / "no_corpus"), "--out", str(tmp_path / "out"),
                 "--pretrained", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {bad}: cannot be read") and "Traceback" not in err
    assert "--from-scratch" in err and not (tmp_path / "out" / "train_filelist.txt").exists()


def test_a_missing_asset_given_on_the_command_line_is_an_error(tmp_path, capsys):
    missing = tmp_path / "x.pt"
    assert main(["--corpus", str(tmp_path), "--out", str(tmp_path / "out"), "--pretrained", str(missing)]) == 2
    assert "pretrained demo asset not found" in capsys.readouterr().err


def test_steps_0_needs_an_asset(tmp_path, capsys):
    assert main(["--corpus", str(tmp_path), "--out", str(tmp_path / "out"), "--from-scratch", "--steps", "0"]) == 2
    assert "--steps 0 only vocodes with a pretrained asset" in capsys.readouterr().err


def test_the_asset_cli_reports_a_bad_checkpoint_in_one_line(tmp_path, capsys):
    (tmp_path / "c.pt").write_bytes(b"garbage")
    assert asset_main([str(tmp_path / "c.pt"), str(tmp_path / "a.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not ASSET.exists(), reason="no committed demo asset")
def test_the_committed_asset_loads_for_the_demo_config_and_records_how_it_was_made():
    from ninerepro.train import load_config

    cfg = load_config(WaveGlowConfig, TINY, [])
    model, payload = load_asset(ASSET, cfg)
    assert ASSET.stat().st_size < 5e6
    meta = payload["meta"]
    for key in ("command", "git", "train_hours", "steps", "machine", "load"):
        assert key in meta, key
    assert meta["steps"] == payload["steps"] and to_dict(cfg.model) == payload["config"]["model"]
    assert json.loads((ASSET.parent / "tiny_pretrained.json").read_text()) == meta
    assert ASSET_README.exists()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in build_model(cfg).parameters())


def test_freeze_takes_the_named_parameters_out_of_training_and_refuses_a_typo():
    from waveglow.train import freeze

    model = build_model(small_cfg())
    assert freeze(model, ["upsample."]) == ["upsample.weight", "upsample.bias"]
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == ["upsample.weight", "upsample.bias"]
    with pytest.raises(ValueError, match=r"'upsampler\.' names no parameter"):
        freeze(model, ["upsampler."])


@pytest.mark.slow
@pytest.mark.skipif(not ASSET.exists(), reason="no committed demo asset")
def test_the_demo_with_the_asset_vocodes_or_fine_tunes_and_reruns_give_the_same_digits(tmp_path):
    from ninerepro.data.synth.cli import build
    from waveglow.demo import DemoOptions, run_demo

    corpus = build("ljspeech", tmp_path / "corpus", n=6, seed=0, workers=2)
    runs = {}
    for name, steps in (("vocode", 0), ("vocode_again", 0), ("fine-tune", 3), ("fine-tune_again", 3)):
        opts = DemoOptions(corpus, tmp_path / name.split("_")[0], n_test=2, steps=steps, pretrained=ASSET,
                           max_eval_seconds=1.5, overrides=("train.progress=false",))
        facts = run_demo(opts)
        runs[name] = json.loads((opts.out / "report.json").read_text())["summary"]
        assert facts["mode"] == name.split("_")[0] and facts["steps"] == steps
        text = (opts.out / "report.md").read_text()
        assert ("only vocoding with the pretrained asset" in text) == (steps == 0)
        assert ("fine-tuned from the pretrained asset" in text) == (steps > 0)
        assert ("loss.png" in text) == (steps > 0) == (opts.out / "loss.png").exists()  # no picture of no training
        assert facts["resolved_config"]["freeze"] == ["upsample."]  # fine-tuning keeps the asset's frozen upsampler
    assert runs["vocode"] == runs["vocode_again"] and runs["fine-tune"] == runs["fine-tune_again"]
    means = {row["system"]: row for row in runs["vocode"]}
    assert means["waveglow"]["nll"] < means["untrained"]["nll"]
