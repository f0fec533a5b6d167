"""The command lines: deepspeech-lm, -transcribe (text and JSON), -eval, -tune; user errors exit 2."""

from __future__ import annotations

import json

import numpy as np
from ds_testkit import tone_utterance, write_corpus

from deepspeech.cli import eval_main, transcribe_main, tune_main
from deepspeech.ngram import NGramLM
from deepspeech.ngram import main as lm_main
from ninerepro.audio import save_wav


def test_deepspeech_lm_writes_a_readable_arpa_file(tmp_path, capsys):
    (tmp_path / "text.txt").write_text("ab ba\nba ab ab\n")
    assert lm_main(["--text", str(tmp_path / "text.txt"), "--order", "2", "--out", str(tmp_path / "lm.arpa")]) == 0
    assert NGramLM.load(tmp_path / "lm.arpa").order == 2


def test_transcribe_prints_one_line_per_file_and_json_with_word_timings(trained_checkpoint, tmp_path, capsys):
    paths = []
    for i, text in enumerate(["ab", "ba ab"]):
        paths.append(tmp_path / f"{i}.wav")
        save_wav(paths[-1], tone_utterance(text, i), 16000)
    assert transcribe_main([*map(str, paths), "--checkpoint", str(trained_checkpoint)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert transcribe_main([str(paths[0]), "--checkpoint", str(trained_checkpoint), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == str(paths[0]) and isinstance(record["words"], list)


def test_transcribe_refuses_another_sample_rate_with_exit_status_two(trained_checkpoint, tmp_path, capsys):
    save_wav(tmp_path / "8k.wav", np.zeros(8000, dtype=np.float32) + 0.01, 8000)
    assert transcribe_main([str(tmp_path / "8k.wav"), "--checkpoint", str(trained_checkpoint)]) == 2
    assert "8000 Hz" in capsys.readouterr().err


def test_eval_reports_corpus_rates_and_the_worst_utterances(trained_checkpoint, tmp_path, capsys):
    manifest = write_corpus(tmp_path / "dev", ["ab ba", "a"], "dev.jsonl")
    report = tmp_path / "report.json"
    assert eval_main(["--manifest", str(manifest), "--checkpoint", str(trained_checkpoint),
                      "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "WER" in out and "CER" in out and "REF:" in out
    rows = json.loads(report.read_text())["utterances"]
    assert [r["word_errors"] for r in rows] == sorted((r["word_errors"] for r in rows), reverse=True)


def test_eval_with_an_lm_and_tune_run_the_beam_search(trained_checkpoint, tmp_path, capsys):
    manifest = write_corpus(tmp_path / "dev", ["ab ba", "a"], "dev.jsonl")
    (tmp_path / "t.txt").write_text("ab ba\na\n")
    lm_main(["--text", str(tmp_path / "t.txt"), "--out", str(tmp_path / "lm.arpa")])
    assert eval_main(["--manifest", str(manifest), "--checkpoint", str(trained_checkpoint),
                      "--lm", str(tmp_path / "lm.arpa"), "--beam", "4"]) == 0
    assert "beam+LM" in capsys.readouterr().out
    assert tune_main(["--manifest", str(manifest), "--checkpoint", str(trained_checkpoint), "--lm",
                      str(tmp_path / "lm.arpa"), "--alphas", "0,1", "--betas", "0", "--beam", "4"]) == 0
    assert "best: alpha=" in capsys.readouterr().out


def test_a_missing_checkpoint_is_a_one_line_error(tmp_path, capsys):
    assert eval_main(["--manifest", str(tmp_path / "m.jsonl"), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
