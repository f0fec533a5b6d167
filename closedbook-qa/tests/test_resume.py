"""A resumed run generates exactly what was missing; a finished run generates nothing; settings are checked."""

from __future__ import annotations

import pytest

from closedbook_qa.config import ContextGenConfig, DemoConfig, RunConfig
from closedbook_qa.data import QAItem
from closedbook_qa.runner import run_pipeline
from ninerepro.lm import StoreMismatch

from .fakes import CountingBackend

TESTS = [QAItem(str(i), f"what is item {w}?", (w,)) for i, w in enumerate(["alpha", "beta", "gamma"])]
POOL = [QAItem(f"p{i}", f"pool question {i}", ("x",), None, "T", "passage text") for i in range(4)]
CFG = RunConfig(k=4, ks=[1, 2, 4], batch_size=2, demos=DemoConfig(num_demos=2, retriever="bm25"))


def _run(tmp_path, backend, cfg=CFG, fresh=False):
    return run_pipeline(backend, "fake-model", cfg, TESTS, POOL, tmp_path, fresh=fresh)


def test_a_finished_run_recomputes_nothing(tmp_path):
    first = CountingBackend()
    result = _run(tmp_path, first, fresh=True)
    assert len(first.prompts) == 3 + 3 * 4 + 3 * 4  # direct + stage 1 + stage 2
    again = CountingBackend()
    assert _run(tmp_path, again)["rows"] == result["rows"] and again.prompts == []


def test_a_killed_run_resumes_with_only_the_missing_items(tmp_path):
    killed = CountingBackend(fail_after=9)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, killed, fresh=True)
    resumed = CountingBackend()
    result = _run(tmp_path, resumed)
    # stored before the kill: direct (batches of 2 + 1) and three stage-1 batches of 2 = 9 prompts; the batch
    # that died inside the backend was never stored
    assert len(resumed.prompts) == 27 - 9
    done = set(zip(killed.prompts[3:9], killed.seeds[3:9]))
    assert not set(zip(resumed.prompts, resumed.seeds)) & done  # no finished stage-1 sample is redone
    ids = [line.split('"')[3] for line in (tmp_path / "stage1_contexts.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 12
    assert result["rows"] == _run(tmp_path / "ref", CountingBackend(), fresh=True)["rows"]


def test_raising_k_reuses_the_first_samples(tmp_path):
    _run(tmp_path, CountingBackend(), fresh=True)
    more = CountingBackend()
    _run(tmp_path, more, RunConfig(k=6, ks=[1, 6], batch_size=2, demos=CFG.demos))
    assert len(more.prompts) == 3 * 2 * 2  # two new samples per question, in both stages


def test_seeds_follow_seed_plus_ten_i(tmp_path):
    _run(tmp_path, CountingBackend(), fresh=True)
    lines = (tmp_path / "stage1_contexts.jsonl").read_text().splitlines()
    assert "seed 1234" in lines[0] and "seed 1264" in lines[3]


def test_changed_decoding_settings_are_refused_on_resume(tmp_path):
    _run(tmp_path, CountingBackend(), fresh=True)
    other = RunConfig(k=4, ks=[1], batch_size=2, demos=CFG.demos, stage1=ContextGenConfig(top_p=0.5))
    with pytest.raises(StoreMismatch, match="stage1"):
        _run(tmp_path, CountingBackend(), other)


def test_the_report_scores_direct_and_every_k(tmp_path):
    rows = _run(tmp_path, CountingBackend(), fresh=True)["rows"]
    assert [(r["method"].split()[0], r["k"]) for r in rows][:3] == [("direct", 0), ("CGAP", 1), ("CGAP", 1)]
    assert rows[0]["EM"] == 100.0  # the fake answers with the question's last word


def test_the_demo_verdict_counts_gains_and_losses_and_calls_small_differences_noise():
    from closedbook_qa.demo import verdict

    tests = [QAItem(str(i), f"q{i}", ("right",)) for i in range(10)]
    right, wrong = "right", "wrong"
    result = {"rows": [{"method": "direct few-shot (no context)", "k": 0, "EM": 50.0},
                       {"method": "CGAP majority vote", "k": 8, "EM": 60.0},
                       {"method": "CGAP weighted (mean)", "k": 8, "EM": 40.0}],
              "predictions": {"direct": {str(i): right if i < 5 else wrong for i in range(10)},
                              "vote@8": {str(i): right if i < 6 else wrong for i in range(10)}}}
    text = verdict(result, tests)
    assert "1 questions gained, 0 lost of 10" in text and "helps" in text and "within sampling noise" in text
