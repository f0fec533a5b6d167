import importlib.util
import itertools
import json
from pathlib import Path

import pytest

from reprover.data import NO_GOALS, Pos, load_corpus, parse_pos, positive_premises, theorem_to_json
from reprover.data.records import parse_theorem

FIXTURE = Path(__file__).parent / "fixtures" / "leandojo_benchmark_4"


def test_the_fixture_loads_with_its_metadata_corpus_and_all_splits(bench):
    assert bench.metadata.dataset_name.startswith("LeanDojo Benchmark 4")
    assert len(bench.metadata.commit) == 40
    assert len(bench.corpus.files) == 5
    assert len(bench.corpus) == 34
    for strategy in ("random", "novel_premises"):
        sizes = [len(bench.split(strategy, s)) for s in ("train", "val", "test")]
        assert sizes == [16, 4, 4]


def test_the_fixture_has_enough_theorems_files_term_proofs_and_multi_goal_states(theorems):
    assert len(theorems) >= 20
    assert len({t.file_path for t in theorems}) >= 3
    assert sum(not t.traced_tactics for t in theorems) == 5  # term-mode proofs are exported with []
    states = [s.state_before for t in theorems for s in t.traced_tactics]
    assert all("⊢" in s for s in states)
    assert sum(s.count("⊢") >= 2 for s in states) >= 4
    assert all(t.traced_tactics[-1].state_after == NO_GOALS for t in theorems if t.traced_tactics)


def test_the_fixture_states_chain_from_one_tactic_to_the_next(theorems):
    for thm in theorems:
        steps = thm.traced_tactics
        for a, b in itertools.pairwise(steps):
            assert a.state_after == b.state_before, thm.full_name


def test_every_fixture_provenance_matches_a_premise_whose_span_holds_its_def_pos(bench, theorems):
    count = 0
    for thm in theorems:
        for tac in thm.traced_tactics:
            premises = positive_premises(bench.corpus, thm, tac, strict=True)
            assert len(premises) == len({p.full_name for p in tac.provenances})
            for prov, p in zip(tac.provenances, premises):
                assert p.start <= prov.def_pos <= p.end
            count += len(premises)
    assert count >= 20


def test_marked_text_wraps_exactly_the_provenance_identifiers(theorems):
    for thm in theorems:
        for tac in thm.traced_tactics:
            assert tac.annotated_text.count("<a>") == len(tac.provenances)
            assert tac.annotated_text.replace("<a>", "").replace("</a>", "") == tac.tactic


def test_records_round_trip_through_the_released_json_form(fixture_root):
    raw = json.loads((fixture_root / "random" / "val.json").read_text(encoding="utf-8"))
    for i, obj in enumerate(raw):
        assert theorem_to_json(parse_theorem(obj, "val.json", i)) == obj


def test_the_committed_fixture_is_exactly_what_make_fixture_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURE.parent / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    for path in sorted(FIXTURE.rglob("*")):
        if path.is_file():
            rel = path.relative_to(FIXTURE)
            assert (tmp_path / rel).read_bytes() == path.read_bytes(), rel


def test_the_corpus_drops_the_entries_the_official_loader_ignores(tmp_path: Path):
    keep = {"full_name": "A.ok", "code": "theorem ok : True", "start": [1, 1], "end": [1, 20], "kind": "lemma"}
    bad = [dict(keep, full_name=None), dict(keep, full_name="A.user__.n"), dict(keep, code=""),
           dict(keep, full_name="[A.x, A.y]")]
    line = {"path": "A.lean", "imports": [], "premises": [keep, *bad]}
    (tmp_path / "corpus.jsonl").write_text(json.dumps(line) + "\n")
    corpus = load_corpus(tmp_path / "corpus.jsonl")
    assert [p.full_name for p in corpus.premises] == ["A.ok"]


def test_positions_are_one_based_pairs_ordered_like_source_text():
    assert parse_pos([3, 7]) == Pos(3, 7)
    assert Pos(3, 7) < Pos(3, 8) < Pos(4, 1)
    for bad in ([0, 1], [1], "1:2", [1.0, 2], [True, 2]):
        with pytest.raises(ValueError):
            parse_pos(bad)


def test_locate_premise_returns_none_outside_every_span(bench):
    corpus = bench.corpus
    assert corpus.locate_premise("Mathlib/Toy/Basic.lean", Pos(1, 1)) is None
    assert corpus.locate_premise("No/Such.lean", Pos(1, 1)) is None
    double = corpus.file_premises("Mathlib/Toy/Basic.lean")[0]
    assert corpus.locate_premise("Mathlib/Toy/Basic.lean", double.start) == double
    assert corpus.index_of(double) == corpus.files["Mathlib/Toy/Basic.lean"].lo
