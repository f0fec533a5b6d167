"""Training: data batches, a few steps with exact resume, the CTC switch, warm starts and few-shot fine-tuning."""

from __future__ import annotations

import json

import pytest
import torch
from flowtron_testkit import FIXTURES, tiny_model

from flowtron.config import FlowtronConfig
from flowtron.data import FlowtronDataset, collate, read_flowtron_list
from flowtron.train import FlowtronStep, build_model, run
from flowtron.warm_start import freeze_all_but, warm_start
from ninerepro.data.filelists import DataFormatError, speaker_table
from ninerepro.train import load_config
from ninerepro.train.checkpoint import load_checkpoint as load_ours
from ninerepro.tts.testing import write_tone_corpus

TINY = ["model.n_speakers=3", "model.n_speaker_dim=8", "model.n_text_dim=16", "model.n_attn_channels=12",
        "model.n_hidden=24", "model.n_lstm_layers=1", "data.batch_size=2", "data.num_workers=0",
        "train.device=cpu", "train.precision=fp32", "train.tensorboard=false", "train.progress=false",
        "train.ckpt_every=1", "train.log_every=1", "loss.ctc_loss_start_iter=2"]


def config(tmp_path, *extra):
    train, val = write_tone_corpus(tmp_path / "corpus")
    return load_config(FlowtronConfig, None, [f"data.training_files={train}", f"data.validation_files={val}",
                                              *TINY, *extra])


def test_batches_are_sorted_padded_and_carry_the_prior(tmp_path):
    cfg = config(tmp_path)
    entries = read_flowtron_list(cfg.data.training_files)
    b = collate([FlowtronDataset(entries, cfg.data, speaker_table(entries))[i] for i in range(3)])
    assert (b.in_lens[:-1] >= b.in_lens[1:]).all()
    assert b.attn_prior.shape == (3, b.mel.shape[2], b.text.shape[1])
    for i in range(3):
        rows = b.attn_prior[i, : b.out_lens[i], : b.in_lens[i]].sum(1)
        torch.testing.assert_close(rows, torch.ones_like(rows), atol=1e-5, rtol=0)
        assert b.gate[i, b.out_lens[i] - 1] == 1 and b.gate[i, : b.out_lens[i] - 1].sum() == 0


def test_validation_clips_of_unknown_speakers_are_refused(tmp_path):
    cfg = config(tmp_path)
    entries = read_flowtron_list(cfg.data.training_files)
    with pytest.raises(DataFormatError, match="not in the training speaker table"):
        FlowtronDataset(entries, cfg.data, {"19": 0})


def test_three_steps_run_and_a_rerun_resumes_with_the_saved_learning_rate(tmp_path):
    cfg = config(tmp_path, "train.max_steps=2", "train.schedule.name=step", "train.schedule.step_size=1",
                 "train.schedule.gamma=0.5")
    first = run(cfg, tmp_path / "run", preload=True)
    assert first.state.step == 2
    cfg2 = config(tmp_path, "train.max_steps=3", "train.schedule.name=step", "train.schedule.step_size=1",
                  "train.schedule.gamma=0.5")
    second = run(cfg2, tmp_path / "run", preload=True)
    assert second.state.step == 3
    # the official train.py would reset the lr to the config value here; ours continues the schedule
    assert second.optimizer.param_groups[0]["lr"] < cfg2.train.optimizer.lr / 2
    saved = load_ours(tmp_path / "run" / (tmp_path / "run" / "latest.txt").read_text().strip())
    assert saved["config"]["speakers"] == {"19": 0, "205": 1, "7": 2}
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert any(r.get("split") == "val" and "align_diagonal_flow1" in r for r in rows)


def test_the_attention_ctc_term_switches_on_at_its_step(tmp_path):
    step = FlowtronStep(config(tmp_path))
    assert not step.ctc_on

    class At:
        class state:
            step = 2
    step.trainer = At()
    assert step.ctc_on


def test_flow_by_flow_warm_start_copies_the_first_flow_and_leaves_the_new_one_fresh(tmp_path):
    one = tiny_model(n_flows=1)
    torch.save({"state_dict": one.state_dict()}, tmp_path / "one.pt")
    two = tiny_model(seed=9, n_flows=2)
    fresh = {k: v.clone() for k, v in two.state_dict().items()}
    copied = warm_start(two, str(tmp_path / "one.pt"))
    assert "flows.0.attention_lstm.weight_ih_l0" in copied and not any(k.startswith("flows.1") for k in copied)
    assert torch.equal(two.state_dict()["flows.0.conv.weight"], one.state_dict()["flows.0.conv.weight"])
    assert torch.equal(two.state_dict()["flows.1.ar_step.conv.weight"], fresh["flows.1.ar_step.conv.weight"])


def test_a_new_speaker_table_keeps_its_fresh_embedding_and_include_layers_filters(tmp_path):
    target = tiny_model(seed=2, n_speakers=5)
    before = target.speaker_embedding.weight.clone()
    source = tiny_model(seed=3, n_speakers=3)
    torch.save({"state_dict": source.state_dict()}, tmp_path / "src.pt")
    copied = warm_start(target, str(tmp_path / "src.pt"), include_layers=["speaker", "encoder", "embedding"])
    assert "speaker_embedding.weight" not in copied and "embedding.weight" in copied
    assert not any(k.startswith("flows.") for k in copied)
    assert torch.equal(target.speaker_embedding.weight, before)


def test_finetune_layers_freeze_everything_else():
    model = tiny_model()
    freeze_all_but(model, ["speaker_embedding.weight"])
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["speaker_embedding.weight"]
    with pytest.raises(ValueError, match="no parameter named"):
        freeze_all_but(model, ["speaker.weight"])


def test_build_model_warm_starts_from_an_official_training_file(tmp_path):
    cfg = config(tmp_path, "model.n_text_dim=32", "model.n_speaker_dim=16",
                 f"warm_start.checkpoint={FIXTURES / 'official_tiny_train.pt'}")
    model = build_model(cfg)
    official = torch.load(FIXTURES / "official_tiny_state_dict.pt", weights_only=True)["state_dict"]
    assert torch.equal(model.embedding.weight, official["embedding.weight"])
