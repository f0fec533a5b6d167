"""The demo's toy world (issue #19 item 7): Benchmark 4 format, a kernel that checks tactics, novel premises."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from reprover.data.benchmark import Benchmark
from reprover.env.types import LeanError, ProofFinished, TacticState
from reprover.toy.bench import generate
from reprover.toy.kernel import RewriteEnvironment


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("toy") / "bench", seed=0)


def test_the_toy_benchmark_loads_strictly_and_novel_test_theorems_need_lemmas_no_train_proof_uses(toy):
    bench = Benchmark(toy)
    train, test = bench.split("novel_premises", "train"), bench.split("novel_premises", "test")
    used_in_train = {p.full_name for t in train for tac in t.traced_tactics for p in tac.provenances}
    assert len(test) >= 40 and all(t.traced_tactics for t in test)
    for thm in test:
        needed = {p.full_name for tac in thm.traced_tactics for p in tac.provenances}
        assert needed - used_in_train, thm.full_name
    # every provenance matches a premise (the format is exact, not approximate)
    from reprover.data import positive_premises

    for thm in test[:10]:
        for tac in thm.traced_tactics:
            assert positive_premises(bench.corpus, thm, tac, strict=True)


def test_the_kernel_checks_tactics_it_has_never_seen_recorded(toy):
    bench = Benchmark(toy)
    env = RewriteEnvironment(str(toy))
    thm = next(t for t in bench.split("novel_premises", "test")
               if len(t.traced_tactics) == 2 and t.traced_tactics[0].tactic != t.traced_tactics[1].tactic)
    first = thm.traced_tactics[0]
    lemma = first.tactic[len("rw ["):-1]
    with env.dojo(thm) as (dojo, st):
        assert st.pp == first.state_before
        short = dojo.run_tac(st, f"rw [{lemma.split('.')[-1]}]")  # the short name, as `open Toy` allows
        assert isinstance(short, TacticState) and short.pp == first.state_after
        assert isinstance(dojo.run_tac(st, "simp"), LeanError)
        assert "unknown identifier" in dojo.run_tac(st, "rw [Toy.lem_zzzzz]").error
        done = dojo.run_tac(short, thm.traced_tactics[1].tactic)
        assert isinstance(done, ProofFinished)
        # rewriting the inner symbol first is another correct proof the recorded one does not contain
        inner = dojo.run_tac(st, thm.traced_tactics[1].tactic)
        assert isinstance(inner, TacticState) and inner.pp != first.state_after
        assert isinstance(dojo.run_tac(inner, first.tactic), ProofFinished)


def test_a_lemma_declared_after_the_theorem_is_not_in_scope(toy):
    bench = Benchmark(toy)
    env = RewriteEnvironment(str(toy))
    thm = next(t for t in bench.split("random", "train") if t.full_name.endswith("_0"))
    later = next(p for p in bench.corpus.premises if p.path == thm.file_path and p.start > thm.start)
    with env.dojo(thm) as (dojo, st):
        assert "unknown identifier" in dojo.run_tac(st, f"rw [{later.full_name}]").error


def _digest(root) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*.json*") if p.is_file()):
        h.update(f.read_bytes())
    return h.hexdigest()


def test_the_benchmark_is_the_same_whatever_the_hash_seed(toy, tmp_path):
    code = "import sys; from reprover.toy.bench import generate; generate(sys.argv[1], seed=0)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], check=True, env=env, timeout=120)
    assert _digest(tmp_path / "b") == _digest(toy)


def test_prove_env_rewrite_with_the_oracle_proves_the_toy_test_split(toy, tmp_path):
    import json

    from reprover.cli import main

    out = tmp_path / "p.json"
    assert main(["prove", "--data", str(toy), "--split", "novel_premises", "--subset", "test", "--env", "rewrite",
                 "--no-progress", "--output", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["pass@1"] == 1.0 and summary["discarded"] == 0


def test_the_generator_command_writes_a_benchmark(tmp_path, capsys):
    from reprover.toy.bench import main

    assert main([str(tmp_path / "t"), "--num-symbols", "16"]) == 0
    assert "--env rewrite" in capsys.readouterr().out
    assert len(Benchmark(tmp_path / "t").corpus) > 0
