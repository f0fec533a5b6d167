"""Each kind of broken input is one clear error naming the file and the fix."""

import json
import logging

import pytest

from reprover.cli import main
from reprover.data import Benchmark, BenchmarkFormatError, load_corpus, positive_premises


def _corpus_lines(root):
    return [json.loads(line) for line in (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]


def _write_corpus(root, lines):
    (root / "corpus.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))


def test_a_missing_split_names_the_file_and_how_to_get_it(bench_copy, capsys):
    (bench_copy / "novel_premises" / "test.json").unlink()
    with pytest.raises(BenchmarkFormatError, match=r"novel_premises/test\.json.*reprover\.data\.download"):
        Benchmark(bench_copy).split("novel_premises", "test")
    rc = main(["prove", "--data", str(bench_copy), "--split", "novel_premises", "--subset", "test",
               "--output", str(bench_copy / "out.json")])
    assert rc == 2 and "split file missing" in capsys.readouterr().err


def test_imports_listed_after_their_importer_are_refused_with_the_line(bench_copy):
    lines = _corpus_lines(bench_copy)
    lines[1], lines[2] = lines[2], lines[1]  # Even (imports Basic) now comes before Basic
    _write_corpus(bench_copy, lines)
    with pytest.raises(BenchmarkFormatError, match=r"corpus\.jsonl:2: .*comes later.*reverse topological"):
        load_corpus(bench_copy / "corpus.jsonl")


def test_an_import_cycle_is_reported_as_a_cycle(bench_copy):
    lines = _corpus_lines(bench_copy)
    lines[1]["imports"].append(lines[4]["path"])  # Basic imports Parity, which imports Basic transitively
    _write_corpus(bench_copy, lines)
    with pytest.raises(BenchmarkFormatError, match=r"cycle: Mathlib/Toy/Basic\.lean -> .* -> Mathlib/Toy/Basic"):
        load_corpus(bench_copy / "corpus.jsonl")


def test_an_import_of_an_unknown_file_and_a_broken_line_are_refused(bench_copy):
    lines = _corpus_lines(bench_copy)
    lines[1]["imports"].append("Mathlib/Nowhere.lean")
    _write_corpus(bench_copy, lines)
    with pytest.raises(BenchmarkFormatError, match=r"Nowhere\.lean.*has no line"):
        load_corpus(bench_copy / "corpus.jsonl")
    (bench_copy / "corpus.jsonl").write_text('{"path": "A.lean", "imports": []\n')
    with pytest.raises(BenchmarkFormatError, match=r"corpus\.jsonl:1: invalid JSON"):
        load_corpus(bench_copy / "corpus.jsonl")


def test_a_provenance_that_matches_no_premise_is_an_error_when_strict_and_dropped_otherwise(bench_copy, caplog):
    lines = _corpus_lines(bench_copy)
    lines[1]["premises"] = [p for p in lines[1]["premises"] if p["full_name"] != "Toy.double_def"]
    _write_corpus(bench_copy, lines)
    bench = Benchmark(bench_copy)
    thm = next(t for t in bench.split("random", "train") + bench.split("random", "val") + bench.split(
        "random", "test") if t.full_name == "Toy.double_add")
    tactic = thm.traced_tactics[0]
    with pytest.raises(BenchmarkFormatError, match=r"Toy\.double_def.*matches no premise.*same release"):
        positive_premises(bench.corpus, thm, tactic, strict=True)
    with caplog.at_level(logging.WARNING):
        assert positive_premises(bench.corpus, thm, tactic) == []
    assert "matches no premise" in caplog.text


def test_check_data_fails_on_an_unmatched_provenance(bench_copy, capsys):
    lines = _corpus_lines(bench_copy)
    lines[0]["premises"] = lines[0]["premises"][1:]  # drop Nat.add_zero
    _write_corpus(bench_copy, lines)
    assert main(["check-data", "--data", str(bench_copy)]) == 2
    assert "Nat.add_zero" in capsys.readouterr().err


def test_a_theorem_whose_file_is_not_in_the_corpus_is_refused(bench_copy):
    path = bench_copy / "random" / "val.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    records[1]["file_path"] = "Mathlib/Toy/Missing.lean"
    path.write_text(json.dumps(records, ensure_ascii=False))
    with pytest.raises(BenchmarkFormatError, match=r"val\.json: theorem #1 .*Missing\.lean.*same release"):
        Benchmark(bench_copy).split("random", "val")


def test_a_record_missing_a_field_names_the_theorem_and_the_field(bench_copy):
    path = bench_copy / "random" / "test.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    del records[0]["traced_tactics"][0]["state_before"]
    path.write_text(json.dumps(records, ensure_ascii=False))
    with pytest.raises(BenchmarkFormatError, match=r"theorem #0 \(Toy\.\w+\) tactic 0: missing field 'state_before'"):
        Benchmark(bench_copy).split("random", "test")


def test_env_lean_without_lean_says_what_to_install(fixture_root, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "lean_dojo", None)
    rc = main(["prove", "--data", str(fixture_root), "--env", "lean", "--output", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "lean-dojo" in err and "elan" in err and "--env replay" in err
    assert not (tmp_path / "o.json").exists()


def test_a_missing_benchmark_directory_points_at_the_download(tmp_path, capsys):
    assert main(["check-data", "--data", str(tmp_path / "nope")]) == 2
    assert "reprover.data.download" in capsys.readouterr().err
