import pytest

from reprover.data import Pos, TheoremRecord, load_split
from reprover.data.records import Provenance, TracedTactic
from reprover.data.splits import premises_used_by_tactics, split_by_novel_premises, split_randomly


def _names(thms):
    return [t.full_name for t in thms]


def _toy(name: str, uses: list[str]) -> TheoremRecord:
    provs = tuple(Provenance(u, "A.lean", Pos(1, 1)) for u in uses)
    step = TracedTactic("simp", "simp", provs, "⊢ True", "no goals")
    return TheoremRecord("u", "c" * 40, "A.lean", name, Pos(1, 1), Pos(2, 1), (step,) if uses else ())


def test_random_split_partitions_all_theorems_with_the_requested_sizes(theorems):
    splits = split_randomly(theorems, 4, 4)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [16, 4, 4]
    assert sorted(_names(splits["train"] + splits["val"] + splits["test"])) == sorted(_names(theorems))


def test_random_split_is_deterministic_for_a_seed_and_changes_with_it(theorems):
    a, b, c = split_randomly(theorems, 4, 4), split_randomly(theorems, 4, 4), split_randomly(theorems, 4, 4, seed=1)
    assert _names(a["test"]) == _names(b["test"])
    assert _names(a["test"]) != _names(c["test"])


def test_the_builders_reproduce_the_committed_fixture_splits(fixture_root, theorems):
    # make_fixture built the splits from the theorems in file order
    ordered = sorted(theorems, key=lambda t: (["Basic", "Even", "Order", "Parity"].index(
        t.file_path.split("/")[-1][:-5]), t.start))
    for strategy, build in (("random", split_randomly), ("novel_premises", split_by_novel_premises)):
        splits = build(ordered, 4, 4)
        for subset in ("train", "val", "test"):
            assert _names(splits[subset]) == _names(load_split(fixture_root, strategy, subset)), (strategy, subset)


def test_every_novel_premises_val_and_test_theorem_uses_a_premise_no_train_theorem_uses(bench):
    train_uses = set().union(*(premises_used_by_tactics(t) for t in bench.split("novel_premises", "train")))
    for subset in ("val", "test"):
        for thm in bench.split("novel_premises", subset):
            assert premises_used_by_tactics(thm) - train_uses, thm.full_name


def test_novel_premises_takes_every_user_of_a_rare_premise_even_past_the_target_size():
    thms = [_toy("a", ["P"]), _toy("b", ["P", "Q"]), _toy("c", ["P", "Q"]), _toy("d", ["Q", "R"]),
            _toy("e", ["Q"]), _toy("f", [])]
    splits = split_by_novel_premises(thms, 1, 1)
    # fewest users first: R (1 user: d) then P (3 users: a, b, c), after which the pool (4) exceeds 2
    held = set(_names(splits["val"] + splits["test"]))
    assert held == {"a", "b", "c", "d"}
    assert len(splits["val"]) == 1 and len(splits["test"]) == 3
    assert _names(splits["train"]) == ["e", "f"]  # term-mode theorems (no premises) always train


def test_split_sizes_that_leave_no_training_theorem_are_refused():
    thms = [_toy(str(i), ["P"]) for i in range(3)]
    with pytest.raises(ValueError, match="num-val"):
        split_randomly(thms, 2, 1)
    with pytest.raises(ValueError, match="num-val"):
        split_by_novel_premises(thms, 1, 1)
