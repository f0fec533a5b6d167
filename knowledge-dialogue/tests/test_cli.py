"""The run / score CLI end to end with a fake backend: outputs, resume after a kill, one-line errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_dialogue import cli
from ninerepro.lm import runs
from ninerepro.lm.cli_testing import one_line_error

from .fakes import EchoBackend, SilentServer

FIX = Path(__file__).parent / "fixtures"
CFG = str(Path(__file__).parents[1] / "configs" / "tiny.json")


def _err(capsys, argv) -> str:
    return one_line_error(cli.main, argv, capsys)


@pytest.fixture()
def backend(monkeypatch):
    fake = EchoBackend()
    monkeypatch.setattr(runs, "make_backend", lambda args, batch_size: (fake, "fake"))
    return fake


def _run(tmp_path, *extra):
    return ["run", "--data", "demo", "--split", "test_unseen", "--out", str(tmp_path / "run"), "-c", CFG, *extra]


def test_run_writes_stages_scores_and_guesses_then_score_rescores(tmp_path, capsys, backend):
    assert cli.main(_run(tmp_path)) == 0
    out = tmp_path / "run"
    assert {"run.json", "stage1_knowledge.jsonl", "stage2_responses.jsonl", "baseline_responses.jsonl",
            "scores.md", "response_guess.txt", "knowledge_guess.txt"} <= {p.name for p in out.iterdir()}
    rows = {r["output"]: r for r in json.loads((out / "scores.json").read_text())["rows"]}
    assert rows["baseline response (no knowledge)"]["F1"] == 0.0  # "no idea" (and <|endoftext|> stripped)
    assert rows["MSDP response (stage 2)"]["KF1"] > 0  # echoes the generated knowledge, which names the topic
    first = json.loads((out / "stage1_knowledge.jsonl").read_text().splitlines()[0])
    assert first["knowledge"] == "Saturn is a fine thing to talk about."
    assert backend.prompts[0].endswith("( I looked at Saturn through a telescope last night. ) Saturn =>")
    n = len((out / "response_guess.txt").read_text().splitlines())
    assert n == 12 and len(backend.prompts) == 3 * n
    capsys.readouterr()
    assert cli.main(["score", "--run", str(out)]) == 0
    assert "MSDP response" in capsys.readouterr().out
    ref = tmp_path / "ref.txt"
    guesses = (out / "knowledge_guess.txt").read_text().splitlines()
    ref.write_text("no_passages_used\n" + "".join(g.replace("about.", "about .") + "\n" for g in guesses[1:]))
    assert cli.main(["score", "--guess", str(out / "knowledge_guess.txt"), "--answer", str(ref)]) == 0
    assert "F1 100.00" in capsys.readouterr().out


def test_a_killed_run_resumes_without_regenerating(tmp_path, capsys, monkeypatch):
    dying = EchoBackend(fail_after=17)
    monkeypatch.setattr(runs, "make_backend", lambda args, batch_size: (dying, "fake"))
    with pytest.raises(KeyboardInterrupt):
        cli.main(_run(tmp_path))
    done = len((tmp_path / "run" / "stage1_knowledge.jsonl").read_text().splitlines())
    assert done == 12  # stage 1 finished; stage 2 died inside its second batch of 4
    assert len((tmp_path / "run" / "stage2_responses.jsonl").read_text().splitlines()) == 4
    assert "--resume" in _err(capsys, _run(tmp_path))
    fresh = EchoBackend()
    monkeypatch.setattr(runs, "make_backend", lambda args, batch_size: (fresh, "fake"))
    assert cli.main([*_run(tmp_path), "--resume"]) == 0
    assert len(fresh.prompts) == 36 - 16  # only what was missing
    # another setting is refused, not mixed in
    assert "differing" in _err(capsys, [*_run(tmp_path), "--resume", "stage2.max_new_tokens=7"])


def test_a_wow_file_of_the_wrong_shape_is_one_line(tmp_path, capsys, backend):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"chosen_topic": "x", "dialog": [{"speaker": "0_Apprentice", "text": "hi"},
                                                                {"speaker": "1_Wizard", "text": 3}]}]))
    err = _err(capsys, ["run", "--test", str(bad), "--train", str(FIX / "wow_test.json"), "--out",
                        str(tmp_path / "r")])
    assert "bad.json: dialogue 0, turn 1: 'text' must be a string" in err


def test_an_empty_dialogue_is_named(tmp_path, capsys, backend):
    bad = tmp_path / "empty.json"
    bad.write_text(json.dumps([{"chosen_topic": "x", "dialog": [{"speaker": "0_Wizard", "text": "hi"}]},
                               {"chosen_topic": "y", "dialog": []}]))
    assert "dialogue 1: 'dialog' is empty" in _err(capsys, ["run", "--test", str(bad), "--train",
                                                          str(FIX / "wow_test.json"), "--out", str(tmp_path / "r")])


def test_a_backend_that_times_out_is_one_line(tmp_path, capsys):
    server = SilentServer()
    try:
        err = _err(capsys, [*_run(tmp_path), "--backend", "openai", "--model", "m", "--base-url",
                            f"http://127.0.0.1:{server.port}", "--timeout", "0.3", "--retries", "0"])
    finally:
        server.close()
    assert f"127.0.0.1:{server.port}" in err and "timed out" in err.lower()


def test_a_guess_file_of_another_length_names_both_counts(tmp_path, capsys):
    (tmp_path / "g.txt").write_text("a\nb\n")
    (tmp_path / "r.txt").write_text("a\n")
    err = _err(capsys, ["score", "--guess", str(tmp_path / "g.txt"), "--answer", str(tmp_path / "r.txt")])
    assert "has 2 lines" in err and "has 1" in err


def test_missing_data_says_how_to_get_it(tmp_path, capsys):
    assert "make data-wow" in _err(capsys, ["run", "--data", "wow", "--data-dir", str(tmp_path), "--out",
                                            str(tmp_path / "r")])
    assert "no split 'test'" in _err(capsys, ["run", "--data", "wow", "--split", "test", "--out", str(tmp_path)])
    assert "--test needs --train" in _err(capsys, ["run", "--test", str(FIX / "wow_test.json"), "--out",
                                                   str(tmp_path)])


def test_debug_shows_the_traceback(tmp_path, backend):
    with pytest.raises(ValueError):
        cli.main(["score", "--guess", "x", "--debug"])
