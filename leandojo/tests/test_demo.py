"""The CPU demo: the full pipeline on the fixture (slow: it trains three small models)."""

from __future__ import annotations

import pytest


def test_render_puts_every_method_and_subset_in_one_table():
    from argparse import Namespace

    from reprover.demo import render

    m = {"R@1": 10.0, "R@10": 50.0, "MRR": 0.3, "n": 4}
    s = {"pass@1": 0.5, "proved": 1, "total": 2}
    text = render(Namespace(split="random", num_sampled_tactics=8), [("BM25", m), ("ours", m)],
                  [("oracle", "test", s), ("ours", "test", {**s, "pass@1": None})], 1.0)
    assert "| BM25 | 10.0 | 50.0 | 0.300 | 4 |" in text and "| oracle | test | 50.0 | 1 / 2 |" in text
    assert "| ours | test | n/a |" in text


@pytest.mark.slow
def test_the_demo_trains_evaluates_and_the_oracle_proves_every_tactic_theorem(tmp_path):
    from reprover.demo import main

    assert main(["--out", str(tmp_path), "--retriever-steps", "10", "--generator-steps", "10"]) == 0
    text = (tmp_path / "results.md").read_text()
    assert "| oracle (recorded tactics) | test | 100.0 |" in text
    assert "| oracle (recorded tactics) | train | 100.0 |" in text
