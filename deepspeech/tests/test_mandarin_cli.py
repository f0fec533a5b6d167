"""Mandarin through the shared command lines: train entry, eval/tune by CER, --lang checks, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ds_testkit import CONFIGS, tone_utterance

from deepspeech.cli import eval_main, transcribe_main, tune_main
from deepspeech.infer import Transcriber
from deepspeech.mandarin.lm import build_char_lm
from deepspeech.mandarin.text import build_vocab, save_vocab
from deepspeech.mandarin.train import main as train_main
from ninerepro.audio import save_wav

TEXTS = ["银行利率", "市场成交", "利率市场", "成交银行"]
TINY = ["model.hidden=16", "model.n_layers=2", "model.conv_channels=[4,4]", "train.device=cpu",
        "train.progress=false", "train.log_every=1", "train.tensorboard=false", "data.num_workers=0",
        "data.batch_size=2", "data.max_duration=0", "train.max_steps=2"]


def _corpus(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        wav = tone_utterance(text, i)
        save_wav(folder / f"u{i}.wav", wav, 16000)
        lines.append(json.dumps({"audio_filepath": str(folder / f"u{i}.wav"), "duration": len(wav) / 16000,
                                 "text": text}, ensure_ascii=False))
    (folder / "m.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "m.jsonl"


@pytest.fixture(scope="module")
def mandarin_run(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("cmn")
    manifest = _corpus(root / "corpus", TEXTS)
    vocab = save_vocab(build_vocab(TEXTS), root / "vocab.txt")
    args = ["-c", str(CONFIGS / "tiny_cmn.json"), "--run-dir", str(root / "run"), f"model.vocab=file:{vocab}",
            f"data.train_manifest={manifest}", *TINY]
    assert train_main(args) == 0
    return root / "run", manifest, build_char_lm(manifest, root / "lm.arpa", order=2)


def test_the_checkpoint_carries_its_character_vocabulary(mandarin_run):
    run, _, _ = mandarin_run
    (run.parent / "vocab.txt").unlink()  # the vocabulary file is not needed any more: it is inside the checkpoint
    t = Transcriber.from_checkpoint(run)
    assert t.cfg.model.vocab.startswith("cmn:") and t.vocab.symbols[2:] == tuple(sorted(set("".join(TEXTS))))


def test_eval_and_tune_score_mandarin_by_cer(mandarin_run, capsys):
    run, manifest, arpa = mandarin_run
    assert eval_main(["--manifest", str(manifest), "--checkpoint", str(run), "--lang", "cmn"]) == 0
    assert "WER n/a  CER" in capsys.readouterr().out
    assert tune_main(["--manifest", str(manifest), "--checkpoint", str(run), "--lm", str(arpa), "--beam", "4",
                      "--alphas", "0,1", "--betas", "0", "--lang", "cmn"]) == 0
    out = capsys.readouterr().out
    assert "alpha=1     beta=0     WER n/a CER" in out and out.splitlines()[-1].startswith("best: alpha=")
    assert " CER " in out.splitlines()[-1]


def test_an_english_checkpoint_given_lang_cmn_is_refused_from_its_saved_vocabulary(trained_checkpoint, tmp_path,
                                                                                  capsys):
    save_wav(tmp_path / "a.wav", tone_utterance("银行", 0), 16000)
    code = transcribe_main([str(tmp_path / "a.wav"), "--checkpoint", str(trained_checkpoint), "--lang", "cmn"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "English alphabet" in err and "--lang en" in err


def test_a_mandarin_checkpoint_given_lang_en_or_audio_at_the_wrong_rate_is_one_line(mandarin_run, tmp_path, capsys):
    run, _, _ = mandarin_run
    save_wav(tmp_path / "a.wav", tone_utterance("银行", 0, sr=8000), 8000)
    assert transcribe_main([str(tmp_path / "a.wav"), "--checkpoint", str(run), "--lang", "en"]) == 2
    assert "Mandarin character vocabulary" in capsys.readouterr().err
    assert transcribe_main([str(tmp_path / "a.wav"), "--checkpoint", str(run), "--lang", "cmn"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "8000 Hz" in err and "--resample" in err


def test_training_transcripts_outside_the_vocabulary_are_listed_in_one_line(tmp_path, capsys):
    manifest = _corpus(tmp_path / "corpus", ["银行利率", "鑫淼市场", "淼淼"])
    vocab = save_vocab(build_vocab(["银行利率市场"]), tmp_path / "vocab.txt")
    with pytest.raises(SystemExit) as exit_info:
        train_main(["-c", str(CONFIGS / "tiny_cmn.json"), "--run-dir", str(tmp_path / "run"),
                    f"model.vocab=file:{vocab}", f"data.train_manifest={manifest}", *TINY])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert "'淼' x2 (first line 2)" in err and "'鑫' x1 (first line 2)" in err
    assert "python -m deepspeech.mandarin.vocab" in err
