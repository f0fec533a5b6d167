"""Bad input ends in one ``error:`` line naming the file (and line) and the fix, exit status 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from closedbook_qa import cli, runner

from .fakes import CountingBackend

FIX = Path(__file__).parent / "fixtures"


def _err(capsys, argv) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1
    return err


@pytest.fixture()
def fake_backend(monkeypatch):
    """Every run uses the counting fake instead of loading a model."""
    monkeypatch.setattr(runner, "make_backend", lambda args, cfg: (CountingBackend(), "fake"))


def _run_args(tmp_path, questions, *extra):
    return ["run", "--questions", str(questions), "--pool", str(FIX / "biencoder-train.json"), "--out",
            str(tmp_path / "run"), "demos.retriever=bm25", *extra]


def test_a_malformed_question_line_names_file_and_line(tmp_path, capsys, fake_backend):
    bad = tmp_path / "q.qa.csv"
    bad.write_text("fine\t['a']\nbroken line without tab\n")
    assert "q.qa.csv:2:" in _err(capsys, _run_args(tmp_path, bad))


def test_an_empty_gold_list_names_the_question(tmp_path, capsys, fake_backend):
    bad = tmp_path / "q.qa.csv"
    bad.write_text("who is it\t[]\n")
    assert "'who is it'" in _err(capsys, _run_args(tmp_path, bad))


def test_k_zero_is_refused(tmp_path, capsys, fake_backend):
    assert "k=0" in _err(capsys, [*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "--k", "0"])


def test_a_model_path_that_is_not_a_model_is_refused(tmp_path, capsys):
    err = _err(capsys, [*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "--model", str(tmp_path)])
    assert "is not a model" in err


def test_a_server_that_is_down_is_one_error_line(tmp_path, capsys):
    err = _err(capsys, [*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "--backend", "openai", "--model", "m",
                        "--base-url", "http://127.0.0.1:9", "--timeout", "1", "--retries", "1"])
    assert "127.0.0.1:9" in err


def test_an_unknown_config_key_is_named(tmp_path, capsys, fake_backend):
    assert "stage1.top_q" in _err(capsys, [*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "stage1.top_q=1"])


def test_a_missing_dataset_says_how_to_get_it(tmp_path, capsys):
    assert "make data-nq" in _err(capsys, ["run", "--dataset", "nq", "--data-dir", str(tmp_path), "--out",
                                          str(tmp_path / "r")])


def test_run_then_score_and_an_existing_run_needs_resume_or_fresh(tmp_path, capsys, fake_backend):
    args = [*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "--k", "2"]
    assert cli.main(args) == 0
    capsys.readouterr()
    out = tmp_path / "run"
    assert {p.name for p in out.iterdir()} >= {"run.json", "stage1_contexts.jsonl", "em_by_k.md", "em_by_k.png"}
    assert "--resume" in _err(capsys, args)
    assert cli.main([*args, "--resume"]) == 0
    assert cli.main(["score", "--run", str(out), "--official-cleaning"]) == 0
    report = json.loads((out / "em_by_k.json").read_text())
    assert report["official_cleaning"] is True and [r["k"] for r in report["rows"]] == [0, 1, 1, 2, 2]


def test_debug_shows_the_traceback(tmp_path, fake_backend):
    with pytest.raises(ValueError):
        cli.main([*_run_args(tmp_path, FIX / "nq-test.qa.csv"), "--k", "0", "--debug"])
