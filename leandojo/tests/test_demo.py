"""The CPU demo: the full pipeline on the toy benchmark (slow: it trains three small models)."""

from __future__ import annotations

import pytest


def test_render_puts_every_method_and_subset_in_one_table():
    from argparse import Namespace

    from reprover.demo import render

    m = {"R@1": 10.0, "R@10": 50.0, "MRR": 0.3, "n": 4}
    s = {"pass@1": 0.5, "proved": 1, "total": 2}
    args = Namespace(benchmark="toy", split="novel_premises", num_sampled_tactics=8, max_expansions=10,
                     retriever_steps=1, generator_steps=2, num_retrieved=5, p_drop=0.0,
                     generator_batch_size=8, rename_premises=0.0,
                     insert_gold_premise=False)
    text = render(args, [("BM25", m), ("ours", m)],
                  [("oracle", "test", s), ("ours", "test", {**s, "pass@1": None})], 1.0)
    assert "| BM25 | 10.0 | 50.0 | 0.300 | 4 |" in text and "| oracle | test | 50.0 | 1 / 2 |" in text
    assert "| ours | test | n/a |" in text


def test_the_verdict_compares_with_and_without_retrieval_and_ours_against_bm25():
    from reprover.demo import WITH, WITHOUT, verdict

    retrieval = [("BM25", {"R@10": 20.0}), ("ours", {"R@10": 35.0})]
    proving = [(WITH, "test", {"pass@1": 0.25}), (WITHOUT, "test", {"pass@1": 0.0})]
    text = "\n".join(verdict(retrieval, proving))
    assert "25.0 % vs without 0.0 %: **held**" in text and "35.0 % vs BM25 20.0 %: **held**" in text
    tie = [(WITH, "test", {"pass@1": 0.0}), (WITHOUT, "test", {"pass@1": 0.0})]
    assert "**did not hold**" in verdict([("BM25", {"R@10": 40.0}), ("ours", {"R@10": 35.0})], tie)[1]


def test_the_toy_defaults_are_the_measured_copy_setting_and_the_fixture_keeps_reprovers():
    from reprover.demo import parse_args

    toy = parse_args([])
    assert (toy.num_retrieved, toy.p_drop, toy.rename_premises, toy.insert_gold_premise,
            toy.generator_batch_size, toy.retriever_steps, toy.generator_steps) == (1, 0.0, 1.0, True, 32, 500, 1500)
    fixture = parse_args(["--benchmark", "fixture"])
    assert (fixture.num_retrieved, fixture.p_drop, fixture.rename_premises, fixture.insert_gold_premise,
            fixture.generator_batch_size) == (10, 0.5, 0.0, False, 8)
    assert parse_args(["--insert-gold-premise", "0", "--rename-premises", "0"]).insert_gold_premise is False


@pytest.mark.slow
def test_the_toy_demo_trains_evaluates_and_the_kernel_accepts_every_recorded_proof(tmp_path):
    from reprover.demo import main

    assert main(["--out", str(tmp_path), "--retriever-steps", "10", "--generator-steps", "10", "--max-expansions", "2",
                 "--num-sampled-tactics", "1"]) == 0
    text = (tmp_path / "results.md").read_text()
    assert "| oracle (recorded tactics) | test | 100.0 |" in text and "Claim (" in text
