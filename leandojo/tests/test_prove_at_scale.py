"""A benchmark-scale run: results stream to JSONL, a rerun resumes, failures are recorded and never end the run,
the time budget starts once the theorem is open, and theorems are selected as RP selects them."""

import json
import textwrap
from contextlib import contextmanager

import pytest

from reprover.cli import main
from reprover.data import Pos, TheoremRecord
from reprover.env import TacticState
from reprover.search import prover as prover_module
from reprover.search.best_first import SearchConfig, prove_theorem
from reprover.search.evaluate import select_theorems

THM = TheoremRecord("u", "c" * 40, "F.lean", "T.thm", Pos(1, 1), Pos(3, 1), ())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ScriptedGenerator:
    def __init__(self, suggestions):
        self.suggestions = suggestions

    def generate(self, state, file_path, theorem_full_name, theorem_pos, num_samples):
        return self.suggestions.get(state, [])[:num_samples]


def _prove(root, out, *extra, subset="train"):
    return main(["prove", "--data", str(root), "--split", "random", "--subset", subset, "--output", str(out),
                 "--no-progress", *extra])


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_results_stream_to_jsonl_and_a_rerun_proves_only_the_unfinished_theorems(fixture_root, tmp_path,
                                                                                   monkeypatch):
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out) == 0
    full = json.loads(out.read_text(encoding="utf-8"))
    jsonl = tmp_path / "p.jsonl"
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(full["per_theorem"]) == 16
    # a run killed after 5 theorems, in the middle of writing the 6th line
    jsonl.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20], encoding="utf-8")
    out.unlink()
    proved_now = []
    real = prover_module.prove_theorem

    def counting(thm, *a, **k):
        proved_now.append(thm.full_name)
        return real(thm, *a, **k)

    monkeypatch.setattr(prover_module, "prove_theorem", counting)
    assert _prove(fixture_root, out) == 0
    first_five = {json.loads(line)["full_name"] for line in lines[:5]}
    assert len(proved_now) == 11 and not first_five & set(proved_now)
    again = json.loads(out.read_text(encoding="utf-8"))
    strip = lambda s: [(r["full_name"], r["status"], r["proof"]) for r in s["per_theorem"]]  # noqa: E731
    assert strip(again) == strip(full) and again["pass@1"] == full["pass@1"]
    proved_now.clear()
    assert _prove(fixture_root, out) == 0 and proved_now == []  # all done: nothing is proved twice
    assert _prove(fixture_root, out, "--fresh") == 0 and len(proved_now) == 16


def test_resuming_with_other_search_settings_is_refused_in_one_line(fixture_root, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out, "--num-theorems", "2") == 0
    capsys.readouterr()
    assert _prove(fixture_root, out, "--num-theorems", "2", "--max-expansions", "3") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--fresh" in err and "search" in err


def test_the_summary_keeps_rp_pass_at_1_and_lists_discarded_theorems(fixture_root, tmp_path):
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out, "--max-expansions", "1") == 0
    s = json.loads(out.read_text(encoding="utf-8"))
    assert s["proved"] + s["failed"] == s["total"] and s["pass@1"] == s["proved"] / s["total"]
    assert s["discarded"] == len(s["discarded_theorems"]) == 3
    assert all("term-mode" in d["reason"] for d in s["discarded_theorems"])


PLUGIN = textwrap.dedent('''
    import os
    from reprover.search.oracle import OracleGenerator

    class Crashing(OracleGenerator):
        def generate(self, state, file_path, name, pos, n):
            if name == os.environ["REPROVER_TEST_VICTIM"]:
                if os.environ.get("REPROVER_TEST_HOW") == "exit":
                    os._exit(3)  # the worker process dies
                raise RuntimeError("generator bug")
            return super().generate(state, file_path, name, pos, n)

    def build(spec, theorems):
        return Crashing(theorems)
''')


@pytest.fixture()
def plugin(tmp_path, monkeypatch, bench):
    (tmp_path / "crashing_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # for Ray workers
    victim = next(t for t in bench.split("random", "train") if t.traced_tactics).full_name
    monkeypatch.setenv("REPROVER_TEST_VICTIM", victim)
    return victim


def test_an_exception_while_proving_one_theorem_is_recorded_and_the_run_goes_on(fixture_root, tmp_path, plugin):
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out, "--generator", "py:crashing_plugin:build") == 0
    s = json.loads(out.read_text(encoding="utf-8"))
    bad = next(r for r in s["per_theorem"] if r["full_name"] == plugin)
    assert bad["stop_reason"] == "exception" and "generator bug" in bad["error"]
    assert s["proved"] == 12 and s["errors"] == 1
    assert _prove(fixture_root, out, "--generator", "py:crashing_plugin:build", "--retry-errors") == 0
    assert len(_lines(tmp_path / "p.jsonl")) == 17  # the victim was tried again, nothing else


def test_a_ray_worker_that_dies_is_restarted_and_the_run_finishes(fixture_root, tmp_path, plugin, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("REPROVER_TEST_HOW", "exit")
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out, "--generator", "py:crashing_plugin:build", "--num-workers", "2") == 0
    s = json.loads(out.read_text(encoding="utf-8"))
    bad = next(r for r in s["per_theorem"] if r["full_name"] == plugin)
    assert bad["status"] == "open" and bad["stop_reason"] == "worker_died"
    assert s["proved"] == 12 and len(_lines(tmp_path / "p.jsonl")) == 16


class SlowToOpen:
    """Opening takes 2 s of (fake) time, then one tactic proves the theorem."""

    def __init__(self, clock):
        self.clock, self.timeouts = clock, []

    @contextmanager
    def dojo(self, theorem, timeout):
        self.timeouts.append(timeout)
        self.clock.now += 2.0
        yield self, TacticState("⊢ root", 0)

    def run_tac(self, state, tactic):
        from reprover.env import ProofFinished

        self.clock.now += 0.1
        return ProofFinished(1)


def test_the_time_budget_starts_once_the_theorem_is_open():
    clock = Clock()
    env = SlowToOpen(clock)
    gen = ScriptedGenerator({"⊢ root": [("done", -0.1)]})
    r = prove_theorem(THM, env, gen, SearchConfig(timeout=1.5), clock=clock)
    assert r.status == "proved" and r.num_expansions == 1
    assert r.extra["open_time"] == pytest.approx(2.0) and r.total_time == pytest.approx(2.1)
    assert env.timeouts == [1.5]  # the tactic timeout defaults to the theorem's, as RP
    prove_theorem(THM, env, gen, SearchConfig(timeout=1.5, tactic_timeout=0.25), clock=clock)
    assert env.timeouts[-1] == 0.25


class BrokenOpen:
    @contextmanager
    def dojo(self, theorem, timeout):
        raise OSError("git clone failed")
        yield


def test_any_exception_while_opening_discards_the_theorem_with_its_reason():
    r = prove_theorem(THM, BrokenOpen(), ScriptedGenerator({}), SearchConfig())
    assert r.status == "discarded" and r.error == "OSError: git clone failed"


def test_theorems_are_selected_by_file_name_and_md5_shard_as_rp_does(bench):
    thms = bench.split("random", "train")
    one = thms[3]
    assert select_theorems(thms, full_name=one.full_name) == [one]
    in_file = select_theorems(thms, file_path=one.file_path)
    assert in_file and all(t.file_path == one.file_path for t in in_file)
    shards = [select_theorems(thms, name_filter=h) for h in "0123456789abcdef"]
    assert sorted(t.full_name for s in shards for t in s) == sorted(t.full_name for t in thms)
    assert select_theorems(thms, num_theorems=4) == select_theorems(thms)[:4]


def test_the_fixed_tactic_baseline_tries_one_braced_tactic_per_theorem(fixture_root, tmp_path):
    out = tmp_path / "p.json"
    assert _prove(fixture_root, out, "--tactic", "aesop") == 0
    s = json.loads(out.read_text(encoding="utf-8"))
    assert s["config"]["generator"] == "fixed" and s["config"]["tactic"] == "aesop"
    kept = [r for r in s["per_theorem"] if r["status"] != "discarded"]
    assert all(r["status"] == "failed" and r["num_expansions"] == 1 for r in kept)  # replay knows no aesop


@pytest.mark.parametrize("extra, says", [
    (["--generator", "gpt4"], "--generator gpt4: no such checkpoint"),
    (["--generator", "/nowhere/ckpt"], "no such checkpoint"),
    (["--retriever", "/nowhere/ret", "--generator", "oracle"], "--retriever /nowhere/ret"),
    (["--num-workers", "0"], "--num-workers: must be an integer >= 1"),
    (["--timeout", "0"], "--timeout: must be a number > 0"),
    (["--tactic-timeout", "0"], "--tactic-timeout: must be a number > 0"),
    (["--num-sampled-tactics", "0"], "--num-sampled-tactics: must be an integer >= 1"),
    (["--num-theorems", "-1"], "--num-theorems: must be an integer >= 1"),
    (["--max-expansions", "0"], "--max-expansions: must be an integer >= 1"),
    (["--name-filter", "xyz"], "--name-filter"),
    (["--full-name", "No.such_theorem"], "no theorem"),
    (["--indexed-corpus", "/nowhere/idx"], "--indexed-corpus is only used with --retriever"),
    (["--generator", "fixed"], "--tactic"),
    (["--generator", "py:no_such_module:f"], "py:MODULE:FACTORY"),
])
def test_each_bad_prove_option_is_one_line_and_exit_code_2(fixture_root, tmp_path, capsys, extra, says):
    out = tmp_path / "o.json"
    rc = _prove(fixture_root, out, *extra)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and says in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "o.jsonl").exists()
