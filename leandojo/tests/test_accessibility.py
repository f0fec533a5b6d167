import numpy as np

from reprover.data import Pos, positive_premises

CORE = ".lake/packages/lean4/src/lean/Init/Prelude.lean"
BASIC, EVEN, ORDER, PARITY = (f"Mathlib/Toy/{n}.lean" for n in ("Basic", "Even", "Order", "Parity"))


def _by_name(bench, name):
    return next(p for p in bench.corpus.premises if p.full_name == name)


def test_dependencies_are_the_transitive_imports_and_never_the_file_itself(bench):
    c = bench.corpus
    assert c.dependencies(CORE) == frozenset()
    assert c.dependencies(BASIC) == {CORE}
    assert c.dependencies(ORDER) == {BASIC, CORE}
    assert c.dependencies(PARITY) == {EVEN, ORDER, BASIC, CORE}
    assert all(path not in c.dependencies(path) for path in c.files)


def test_a_theorem_sees_earlier_premises_of_its_file_but_not_itself_or_later_ones(bench, theorems):
    thm = next(t for t in theorems if t.full_name == "Toy.isEven_add")
    visible = {p.full_name for p in bench.corpus.accessible_premises(thm.file_path, thm.start)}
    assert {"Toy.IsEven", "Toy.isEven_zero", "Toy.isEven_double"} <= visible
    assert "Toy.isEven_add" not in visible  # never accessible to itself
    assert "Toy.isEven_four" not in visible  # defined later in the same file


def test_a_file_sees_what_it_imports_transitively_and_nothing_from_siblings(bench):
    at_start = Pos(1, 1)
    order_visible = {p.path for p in bench.corpus.accessible_premises(ORDER, at_start)}
    assert order_visible == {BASIC, CORE}  # Order imports Basic only: Even is a sibling
    parity_visible = {p.full_name for p in bench.corpus.accessible_premises(PARITY, at_start)}
    assert {"Nat.add_zero", "Toy.double", "Toy.IsEven", "Toy.le_double"} <= parity_visible
    assert not any(n.startswith("Toy.double_even") for n in parity_visible)


def test_the_mask_equals_the_definition_for_every_theorem_position(bench, theorems):
    c = bench.corpus
    for thm in theorems:
        reference = np.array([(p.path == thm.file_path and p.end <= thm.start) or p.path in c.dependencies(
            thm.file_path) for p in c.premises])
        mask = c.accessible_mask(thm.file_path, thm.start)
        assert (mask == reference).all(), thm.full_name
        assert all(c.is_accessible(p, thm.file_path, thm.start) == bool(m) for p, m in zip(c.premises, mask))


def test_the_premise_end_boundary_is_inclusive(bench):
    c = bench.corpus
    double = _by_name(bench, "Toy.double")
    assert c.is_accessible(double, BASIC, double.end)
    assert not c.is_accessible(double, BASIC, Pos(double.end.line, double.end.column - 1))


def test_every_premise_a_human_tactic_used_was_accessible_to_its_theorem(bench, theorems):
    for thm in theorems:
        for tac in thm.traced_tactics:
            for p in positive_premises(bench.corpus, thm, tac, strict=True):
                assert bench.corpus.is_accessible(p, thm.file_path, thm.start), (thm.full_name, p.full_name)
