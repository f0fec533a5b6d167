import argparse
import json
import sys
import types

import pytest

from reprover.cli import main


def _prove(fixture_root, tmp_path, *extra, split="random", subset="test"):
    out = tmp_path / f"{split}_{subset}.json"
    rc = main(["prove", "--data", str(fixture_root), "--split", split, "--subset", subset, "--env", "replay",
               "--generator", "oracle", "--output", str(out), *extra])
    return rc, (json.loads(out.read_text(encoding="utf-8")) if out.exists() else None)


@pytest.mark.parametrize("split", ["random", "novel_premises"])
def test_the_oracle_proves_every_fixture_theorem_that_has_tactics(fixture_root, bench, tmp_path, split):
    for subset in ("train", "val", "test"):
        rc, summary = _prove(fixture_root, tmp_path, split=split, subset=subset)
        theorems = bench.split(split, subset)
        with_tactics = [t.full_name for t in theorems if t.traced_tactics]
        assert rc == 0
        assert summary["proved"] == summary["total"] == len(with_tactics)
        assert summary["pass@1"] == (1.0 if with_tactics else None)
        assert summary["discarded"] == len(theorems) - len(with_tactics)
        by_name = {r["full_name"]: r for r in summary["per_theorem"]}
        for thm in theorems:
            r = by_name[thm.full_name]
            if thm.traced_tactics:  # the proof found is the human one, step by step
                assert r["status"] == "proved" and r["proof"] == [s.tactic for s in thm.traced_tactics]
            else:
                assert r["status"] == "discarded"


def test_the_output_has_the_documented_keys_and_no_temp_file_is_left(fixture_root, tmp_path):
    _, summary = _prove(fixture_root, tmp_path)
    assert {"pass@1", "proved", "total", "per_theorem"} <= set(summary)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random_test.json", "random_test.jsonl",
                                                         "random_test.jsonl.meta.json"]


def test_num_theorems_takes_a_deterministic_subset(fixture_root, tmp_path):
    _, a = _prove(fixture_root, tmp_path, "--num-theorems", "2", split="novel_premises", subset="val")
    _, b = _prove(fixture_root, tmp_path, "--num-theorems", "2", split="novel_premises", subset="val")
    assert len(a["per_theorem"]) == 2
    assert [r["full_name"] for r in a["per_theorem"]] == [r["full_name"] for r in b["per_theorem"]]


def test_a_tiny_expansion_cap_leaves_multi_step_proofs_open(fixture_root, tmp_path):
    _, summary = _prove(fixture_root, tmp_path, "--max-expansions", "1", split="novel_premises", subset="val")
    statuses = {r["full_name"]: r["status"] for r in summary["per_theorem"]}
    assert statuses["Toy.double_zero"] == "proved"  # one tactic
    assert statuses["Toy.double_add"] == "open"  # two tactics
    assert summary["pass@1"] < 1.0


def test_a_checkpoint_generator_that_cannot_be_loaded_is_a_clear_error(fixture_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "reprover.generation", types.ModuleType("reprover.generation"))
    (tmp_path / "ckpt").mkdir()
    rc, summary = _prove(fixture_root, tmp_path, "--generator", str(tmp_path / "ckpt"))
    assert rc == 2 and summary is None
    assert "use --generator oracle" in capsys.readouterr().err


def test_two_ray_workers_give_the_same_results_as_one(fixture_root, tmp_path):
    pytest.importorskip("ray")
    _, one = _prove(fixture_root, tmp_path, split="random", subset="train")
    _, two = _prove(fixture_root, tmp_path, "--num-workers", "2", split="random", subset="train")
    strip = [{k: r[k] for k in ("full_name", "status", "proof")} for r in one["per_theorem"]]
    assert [{k: r[k] for k in ("full_name", "status", "proof")} for r in two["per_theorem"]] == strip
    assert two["proved"] == two["total"] == 13


def test_the_command_line_offers_exactly_the_documented_subcommands():
    from reprover.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"prove", "split", "trace", "check-data", "retrieve-eval", "index"}
