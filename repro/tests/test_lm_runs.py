"""ninerepro.lm.runs and ninerepro.lm.cli: the run-folder rules, resumable jobs and one-line errors every pipeline
uses."""

from __future__ import annotations

import argparse

import pytest

from ninerepro.lm import Generation, JsonlStore, Sampling
from ninerepro.lm.cli import add_common, run_command
from ninerepro.lm.runs import check_out_dir, fit_demos, read_store, remove_stages, run_jobs


class Upper:
    name = "upper"

    def __init__(self):
        self.calls: list[list[str]] = []

    def generate(self, prompts, sampling, seeds=None):
        self.calls.append(list(prompts))
        return [Generation(p.upper()) for p in prompts]


def test_an_existing_run_needs_resume_or_fresh(tmp_path):
    check_out_dir(tmp_path, False, False, ["a.jsonl"])
    (tmp_path / "a.jsonl").write_text("")
    with pytest.raises(FileExistsError, match="--resume"):
        check_out_dir(tmp_path, False, False, ["a.jsonl"])
    with pytest.raises(ValueError, match="contradict"):
        check_out_dir(tmp_path, True, True, ["a.jsonl"])
    remove_stages(tmp_path, ["a.jsonl"])
    assert not (tmp_path / "a.jsonl").exists()


def test_run_jobs_generates_only_what_the_store_lacks_in_batches(tmp_path):
    store = JsonlStore(tmp_path / "s.jsonl", {"m": 1})
    store.add("b", {"out": "done before"})
    backend = Upper()
    jobs = [(k, k * 2, 0) for k in "abcde"]
    n = run_jobs(backend, store, jobs, Sampling(max_new_tokens=1, greedy=True), lambda k, g: {"out": g.text}, 2)
    assert n == 4 and backend.calls == [["aa", "cc"], ["dd", "ee"]]
    again = read_store(tmp_path / "s.jsonl")
    assert again.get("e")["out"] == "EE" and again.get("b")["out"] == "done before"


def test_fit_demos_drops_from_the_front():
    assert fit_demos(lambda d: " ".join(d), ["x y", "z", "w"], lambda t: len(t.split()), 3, 1) == ["z", "w"]


def test_user_errors_are_one_line_with_status_2(capsys):
    p = argparse.ArgumentParser()
    add_common(p)

    def boom(args):
        raise FileNotFoundError("data.tsv: no such file")

    p.set_defaults(func=boom)
    assert run_command(p.parse_args([])) == 2
    assert capsys.readouterr().err == "error: data.tsv: no such file\n"
    with pytest.raises(FileNotFoundError):
        run_command(p.parse_args(["--debug"]))
