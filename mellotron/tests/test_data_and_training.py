"""Filelists -> features -> batches, and a few real training steps that resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ml_testkit import official_hparams, write_tone_corpus

from mellotron.config import MellotronConfig, MellotronDataConfig
from mellotron.data import MellotronDataset, collate, read_mellotron_list
from ninerepro.audio.errors import SampleRateError
from ninerepro.audio.io import save_wav
from ninerepro.data.filelists import DataFormatError, speaker_table
from ninerepro.train import load_config


def test_speaker_table_sorts_raw_ids_as_strings_like_the_official_np_unique(tmp_path):
    train, _ = write_tone_corpus(tmp_path)
    assert speaker_table(read_mellotron_list(train)) == {"19": 0, "205": 1, "7": 2}


def test_batches_are_sorted_padded_and_carry_f0(tmp_path):
    train, _ = write_tone_corpus(tmp_path)
    entries = read_mellotron_list(train)
    ds = MellotronDataset(entries, MellotronDataConfig(), speaker_table(entries))
    b = collate([ds[0], ds[3], ds[1]])
    assert b.text_lengths.tolist() == sorted(b.text_lengths.tolist(), reverse=True)
    assert b.mel.shape[0] == 3 and b.mel.shape[1] == 80 and b.f0.shape == (3, 1, b.mel.shape[2])
    n = int(b.output_lengths[0])
    assert b.gate[0, n - 1] == 1 and b.gate[0, : n - 1].sum() == 0
    voiced = b.f0[b.f0 > 0]
    assert voiced.numel() > 0 and 100 < float(voiced.median()) < 240  # the tones are 120-180 Hz


def test_a_clip_at_another_rate_names_the_file(tmp_path):
    train, _ = write_tone_corpus(tmp_path)
    save_wav(tmp_path / "u0.wav", np.zeros(16000, dtype=np.float32) + 0.1, 16000)
    entries = read_mellotron_list(train)
    with pytest.raises(SampleRateError, match=r"u0\.wav"):
        MellotronDataset(entries, MellotronDataConfig(), speaker_table(entries))[0]


def test_a_validation_speaker_outside_the_training_table_is_refused(tmp_path):
    train, _ = write_tone_corpus(tmp_path)
    entries = read_mellotron_list(train)
    with pytest.raises(DataFormatError, match="not in the training speaker table"):
        MellotronDataset(entries, MellotronDataConfig(), {"7": 0})


def test_fractional_p_arpabet_is_refused_by_the_config():
    with pytest.raises(ValueError, match="p_arpabet"):
        load_config(MellotronConfig, None, ["data.p_arpabet=0.5"])


def test_three_training_steps_run_and_a_rerun_resumes(tmp_path):
    from mellotron.train import run

    train, val = write_tone_corpus(tmp_path / "c")
    model_keys = [f"model.{k}={v}".replace(" ", "") for k, v in official_hparams().items()]
    overrides = [*model_keys, f"data.training_files={train}", f"data.validation_files={val}", "data.batch_size=2",
                 "data.num_workers=0", "train.device=cpu", "train.max_steps=2", "train.ckpt_every=2",
                 "train.val_every=2", "train.tensorboard=false", "train.progress=false", "train.log_every=1"]
    cfg = load_config(MellotronConfig, None, overrides)
    first = run(cfg, tmp_path / "run")
    assert first.state.step == 2 and (tmp_path / "run" / "latest.txt").is_file()
    cfg = load_config(MellotronConfig, None, [*overrides[:-5], "train.max_steps=3", "train.ckpt_every=1",
                                              "train.tensorboard=false", "train.progress=false", "train.log_every=1"])
    second = run(cfg, tmp_path / "run")
    assert second.state.step == 3
    latest = tmp_path / "run" / (tmp_path / "run" / "latest.txt").read_text().strip()
    saved = torch.load(latest, weights_only=True)
    assert saved["config"]["speakers"] == {"19": 0, "205": 1, "7": 2}
    from mellotron import load_checkpoint

    assert load_checkpoint(latest).cfg.n_speakers == 3
