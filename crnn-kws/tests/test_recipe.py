"""`make reproduce` stages on fixtures in the real on-disk formats: Speech Commands v2 (12 classes, SHA-1
split) and the wake-word corpus linked from user folders + LibriSpeech layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from kws_testkit import ROOT, config, write_speech_commands_fixture

from crnn_kws.cli import eval_main
from crnn_kws.commands import LABELS, SILENCE, UNKNOWN, CommandsSplit, CommandsWindowDataset, evaluation_items
from crnn_kws.data import SplitAudio
from crnn_kws.recipe import main as recipe_main
from crnn_kws.train import build_trainer
from ninerepro.data.datasets.speech_commands import which_set


@pytest.fixture(scope="module")
def commands_root(tmp_path_factory) -> Path:
    return write_speech_commands_fixture(tmp_path_factory.mktemp("sc") / "speech_commands_v0.02")


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_splits_follow_the_sha1_rule_and_unknown_words_are_class_unknown(commands_root):
    for split, official in (("train", "training"), ("validation", "validation"), ("test", "testing")):
        s = CommandsSplit.load(commands_root, split, 16000)
        assert s.known and all(which_set(p.name) == official for p, _ in s.known)
        assert all(which_set(p.name) == official for p in s.unknown)
        assert {p.parent.name for p in s.unknown} == {"bed", "bird"}
    test = CommandsSplit.load(commands_root, "test", 16000)
    counts = test.counts()  # 10 known test clips -> 12.5 total -> 1 silence, 1 unknown
    assert counts == {"known": 10, "silence": 1, "unknown": 1}
    items = evaluation_items(test, config("tiny_commands12").features)
    assert [label for _, label in items].count(SILENCE) == 1 and [label for _, label in items].count(UNKNOWN) == 1
    assert all(w.shape == (24000,) for w, _ in items)


def test_training_windows_mix_silence_unknown_and_commands(commands_root):
    cfg = config("tiny_commands12")
    ds = CommandsWindowDataset(CommandsSplit.load(commands_root, "train", 16000), cfg.data, cfg.features)
    labels = np.array([ds[i][1] for i in range(300)])
    assert set(labels) <= set(range(len(LABELS))) and len(set(labels)) >= 8
    assert 0.03 < np.mean(labels == SILENCE) < 0.2 and 0.03 < np.mean(labels == UNKNOWN) < 0.2
    wav = ds[0][0]
    assert wav.shape == (24000,) and float(wav.abs().max()) <= 1.0


def test_the_12_class_model_trains_and_the_eval_cli_reports_test_accuracy(commands_root, tmp_path, capsys):
    cfg = config("tiny_commands12", f"data.corpus={commands_root}", "train.max_steps=2")
    assert build_trainer(cfg, tmp_path / "run").fit().step == 2
    report = tmp_path / "eval.json"
    assert eval_main(["--checkpoint", str(tmp_path / "run"), "--corpus", str(commands_root),
                      "--report", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["n"] == 12 and 0.0 <= result["accuracy"] <= 1.0 and set(result["per_class"]) <= set(LABELS)
    assert "12-class test accuracy" in capsys.readouterr().out


def test_the_task_and_the_class_count_must_agree():
    with pytest.raises(ValueError, match=r"needs model\.n_classes=12"):
        config("tiny", "data.task=speech_commands")


def test_commands_check_writes_split_sizes_and_a_missing_folder_is_one_line(commands_root, tmp_path, capsys):
    out = tmp_path / "splits.json"
    assert recipe_main(["commands-check", "--root", str(commands_root), "--out", str(out)]) == 0
    splits = json.loads(out.read_text())["splits"]
    assert splits["train"]["known"] == 80 and splits["test"]["known"] == 10
    capsys.readouterr()
    assert recipe_main(["commands-check", "--root", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "not a directory" in _one_error_line(capsys)


def test_the_wake_word_corpus_links_user_folders_and_loads(tiny_corpus, tmp_path):
    root = tmp_path / "ww"
    assert recipe_main(["wake-word-corpus", "--out", str(root), "--positives", str(tiny_corpus / "positives" / "train"),
                        "--librispeech", str(tiny_corpus / "LibriSpeech"), "--noise", str(tiny_corpus / "noise")]) == 0
    manifest = json.loads((root / "corpus.json").read_text())
    assert manifest["counts"]["positives"] == {"train": 13, "test": 3}  # 16 files: every fifth held out
    assert manifest["counts"]["noise"] == {"train": 4, "test": 4}  # the folder's own train/ and test/
    assert (root / "LibriSpeech" / "test-clean").is_symlink()
    test = SplitAudio.load(root, "test", 16000)
    assert len(test.positives) == 3 and not test.confusables
    train = SplitAudio.load(root, "train", 16000, max_speech_files=2)  # capped: first and last utterance
    everything = SplitAudio.load(root, "train", 16000)
    assert len(train.speech) == 2 < len(everything.speech) and train.speech[-1] is not None
    np.testing.assert_array_equal(train.speech[-1], everything.speech[-1])


@pytest.mark.parametrize(("kind", "expected"), [("8k", "resample"), ("stereo", "2 channels"), ("few", "at least 5")])
def test_bad_user_positives_are_refused_by_file_before_anything_is_written(tiny_corpus, tmp_path, capsys, kind,
                                                                            expected):
    pos = tmp_path / "pos"
    pos.mkdir()
    for i in range(1 if kind == "few" else 5):
        shape = (16000, 2) if kind == "stereo" else (16000,)
        rate, shape = (8000, (8000,)) if kind == "8k" and i == 2 else (16000, shape)
        sf.write(pos / f"{i}.wav", np.full(shape, 0.01), rate)
    assert recipe_main(["wake-word-corpus", "--out", str(tmp_path / "ww"), "--positives", str(pos),
                        "--librispeech", str(tiny_corpus / "LibriSpeech"), "--noise", str(tiny_corpus / "noise")]) == 2
    line = _one_error_line(capsys)
    assert expected in line and str(pos) in line and not (tmp_path / "ww").exists()


def test_the_report_puts_each_result_beside_the_paper(tmp_path):
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "eval.json").write_text(json.dumps({"accuracy": 0.9, "n": 10, "per_class": {"yes": 1.0}}))
    (tmp_path / "wake-word").mkdir()
    (tmp_path / "wake-word" / "eval.json").write_text(json.dumps([
        {"snr_db": 5.0, "accuracy": 0.95, "negative_hours": 10.0, "positives": 100},
        {"snr_db": 20.0, "accuracy": None, "negative_hours": 10.0, "positives": 100}]))
    assert recipe_main(["report", "--exp", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "Test accuracy **90.00 %**" in text and "| 5 | 97.71 | 95.00 |" in text
    assert "| 20 | 99.3 | no threshold meets the target |" in text and "torch" in text


@pytest.mark.slow
def test_make_reproduce_runs_every_stage_once_and_a_rerun_skips_them(commands_root, tiny_corpus, tmp_path):
    exp = tmp_path / "exp"
    args = ["make", "-s", "-C", str(ROOT), "reproduce", f"PY={sys.executable}", f"EXP={exp}",
            f"SC_ROOT={commands_root}",
            "SC_CONFIG=configs/tiny_commands12.json", "WW_CONFIG=configs/tiny.json", "NEG_MINUTES=0.5", "NGPU=1",
            f"POSITIVES={tiny_corpus / 'positives' / 'train'}", f"NOISE={tiny_corpus / 'noise'}",
            f"LIBRISPEECH={tiny_corpus / 'LibriSpeech'}", "OVERRIDES=train.max_steps=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run(args, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    for marker in ("commands/.1-data.done", "commands/.2-train.done", "commands/.3-eval.done",
                   "wake-word/.1-corpus.done", "wake-word/.2-train.done", "wake-word/.3-eval.done"):
        assert (exp / marker).is_file(), marker
    assert "Speech Commands v2, 12 classes" in (exp / "report.md").read_text()
    again = subprocess.run(args, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "stage" not in again.stdout  # every stage was done
