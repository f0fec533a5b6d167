"""Prompt layouts byte for byte as the official code builds them, and demonstration selection."""

from __future__ import annotations

from closedbook_qa import prompts
from closedbook_qa.config import DemoConfig
from closedbook_qa.data import QAItem
from closedbook_qa.demos import select_demos

D1 = QAItem("1", "who wrote hamlet", ("Shakespeare",), None, "Hamlet", "A play by Shakespeare.")
D2 = QAItem("2", "largest planet", ("Jupiter", "jupiter"), "Jupiter (planet)", "Jupiter", "The biggest planet.")


def test_stage1_prompt_layout():
    assert prompts.stage1_prompt("q?", [D1, D2]) == (
        "Q: who wrote hamlet\nA: Hamlet A play by Shakespeare.\n\n"
        "Q: largest planet\nA: Jupiter The biggest planet.\n\n"
        "Q: q?\n")


def test_stage2_prompt_layout_uses_target_else_first_answer_and_no_blank_lines():
    assert prompts.stage2_prompt("q?", "Generated text.", [D1, D2]) == (
        "Context: Hamlet A play by Shakespeare.\nQuestion: who wrote hamlet\nAnswer: Shakespeare\n"
        "Context: Jupiter The biggest planet.\nQuestion: largest planet\nAnswer: Jupiter (planet)\n"
        "Context: Generated text.\nQuestion: q?\n")


def test_direct_prompt_is_stage2_without_contexts():
    assert prompts.direct_prompt("q?", [D1]) == "Question: who wrote hamlet\nAnswer: Shakespeare\nQuestion: q?\n"


def test_fit_demos_drops_the_least_similar_first():
    kept = prompts.fit_demos(lambda d: prompts.stage1_prompt("q?", d), [D1, D2], lambda t: len(t.split()), 14, 0)
    assert kept == [D2]


def test_demos_skip_the_test_question_without_refill_and_put_the_best_last():
    pool = [QAItem(str(i), q, ("x",), None, "", "") for i, q in
            enumerate(["capital of france", "capital of spain", "largest planet", "capital of italy"])]
    test = QAItem("t", "capital of france", ("Paris",))
    demos = select_demos([test], pool, DemoConfig(num_demos=3, retriever="bm25"))["t"]
    assert len(demos) == 2 and all(d.question != test.question for d in demos)
    assert all("capital" in d.question for d in demos)


def test_the_official_config_file_equals_the_dataclass_defaults():
    from pathlib import Path

    from closedbook_qa.config import RunConfig
    from ninerepro.train.config import load_config

    cfg = load_config(RunConfig, Path(__file__).parents[1] / "configs" / "cgap_official.json")
    assert cfg == RunConfig()
    assert (cfg.stage1.top_p, cfg.stage1.top_k, cfg.stage1.temperature, cfg.stage1.max_new_tokens) == (0.9, 0, 1.0, 100)
    assert (cfg.stage1.seed_stride, cfg.stage1.min_line_chars, cfg.stage2.max_new_tokens, cfg.demos.num_demos) == \
        (10, 5, 10, 10)
