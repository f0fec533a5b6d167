"""User mistakes end in one line naming the file and the fix, exit status 2, no traceback."""

from __future__ import annotations

import numpy as np
import pytest
from kws_testkit import CONFIGS, config

from crnn_kws.cli import eval_main, listen_main
from crnn_kws.detector import Detector
from crnn_kws.train import main as train_main
from ninerepro.audio import save_wav
from ninerepro.train.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def checkpoint(tiny_corpus, tmp_path_factory):
    from crnn_kws.train import build_trainer

    run = tmp_path_factory.mktemp("ckpt") / "run"
    build_trainer(config("tiny", f"data.corpus={tiny_corpus}", "train.max_steps=1"), run).fit()
    return run


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_wrong_sample_rate_names_the_file_and_how_to_resample(checkpoint, tmp_path, capsys):
    wav = tmp_path / "8k.wav"
    save_wav(wav, np.zeros(8000, dtype=np.float32) + 0.01, 8000)
    assert listen_main([str(wav), "--checkpoint", str(checkpoint)]) == 2
    line = _one_error_line(capsys)
    assert str(wav) in line and "8000 Hz" in line and "resample" in line


def test_stereo_is_refused_with_the_downmix_command(checkpoint, tmp_path, capsys):
    wav = tmp_path / "stereo.wav"
    save_wav(wav, np.full((16000, 2), 0.01, dtype=np.float32), 16000)
    assert listen_main([str(wav), "--checkpoint", str(checkpoint)]) == 2
    assert "2 channels" in _one_error_line(capsys)


def test_a_clip_shorter_than_the_window_is_refused(checkpoint, tmp_path, capsys):
    wav = tmp_path / "short.wav"
    save_wav(wav, np.full(4000, 0.01, dtype=np.float32), 16000)
    assert listen_main([str(wav), "--checkpoint", str(checkpoint)]) == 2
    assert "shorter than one 0.5 s decision window" in _one_error_line(capsys)


def test_listen_prints_nothing_wrong_on_a_valid_file(checkpoint, tmp_path, capsys):
    wav = tmp_path / "ok.wav"
    save_wav(wav, (np.random.default_rng(0).standard_normal(24000) * 0.05).astype(np.float32), 16000)
    assert listen_main([str(wav), "--checkpoint", str(checkpoint), "--threshold", "0.0"]) == 0
    assert "keyword at 0.50 s" in capsys.readouterr().out  # threshold 0 fires at the first decision


def test_an_empty_negative_set_is_refused_by_name(checkpoint, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert eval_main(["--checkpoint", str(checkpoint), "--corpus", str(tmp_path / "empty")]) == 2
    assert "no corpus.json" in _one_error_line(capsys)


def test_a_checkpoint_from_another_feature_setting_is_refused(checkpoint):
    with pytest.raises(CheckpointError, match=r"features.kind: checkpoint 'pcen' vs config 'logmel'"):
        Detector.from_checkpoint(checkpoint, expect_features=config("tiny", "features.kind=logmel").features)


def test_a_missing_checkpoint_and_a_bad_override_exit_2(tmp_path, capsys):
    assert listen_main([str(tmp_path / "x.wav"), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in _one_error_line(capsys)
    assert train_main(["-c", str(CONFIGS / "tiny.json"), "model.nope=1"]) == 2
    assert "unknown config key 'model.nope'" in _one_error_line(capsys)


def test_debug_shows_the_traceback_instead(tmp_path):
    with pytest.raises(CheckpointError):
        listen_main([str(tmp_path / "x.wav"), "--checkpoint", str(tmp_path / "none.pt"), "--debug"])
