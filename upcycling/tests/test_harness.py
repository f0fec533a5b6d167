"""The lm-evaluation-harness adapter (issue 18 item 7), offline: a tiny local multiple-choice task in the harness's
YAML format (lm_eval's own MMLU template, local JSON data) run on one of our checkpoints; its per-choice
log-likelihoods must equal our MMLU evaluator's on the same questions, prompt and shots."""

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("lm_eval")

from lm_eval import simple_evaluate
from lm_eval.api.instance import Instance
from lm_eval.tasks import TaskManager

from ninerepro.train.checkpoint import save_checkpoint
from upcycling.config import GPTConfig, MoEConfig
from upcycling.eval.harness import UpcyclingLM, score_continuation
from upcycling.eval.mmlu import CHOICES, build_prompt, choice_scores, evaluate, read_split
from upcycling.model import build_model

MMLU = Path(__file__).resolve().parent / "fixtures" / "mmlu" / "data"
SUBJECT = "abstract_algebra"

# lm_eval/tasks/mmlu/default/_default_template_yaml with the data read from local JSON files, and the
# official prompt's description (its double space, as upcycling.eval.mmlu writes it)
TASK_YAML = """task: tiny_mmlu_abstract_algebra
dataset_path: json
dataset_kwargs:
  data_files:
    test: {test}
    dev: {dev}
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: multiple_choice
description: "The following are multiple choice questions (with answers) about  abstract algebra.\\n\\n"
doc_to_text: "{{{{question.strip()}}}}\\nA. {{{{choices[0]}}}}\\nB. {{{{choices[1]}}}}\\
  \\nC. {{{{choices[2]}}}}\\nD. {{{{choices[3]}}}}\\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def _task_dir(tmp_path: Path) -> Path:
    """The fixture's MMLU CSVs as the JSON rows cais/mmlu has (question, choices, answer index)."""
    d = tmp_path / "tasks"
    d.mkdir()
    for split in ("dev", "test"):
        rows = read_split(MMLU / split / f"{SUBJECT}_{split}.csv", SUBJECT)
        (d / f"{split}.jsonl").write_text("".join(
            json.dumps({"question": q.question, "choices": list(q.options), "answer": CHOICES.index(q.answer)}) + "\n"
            for q in rows))
    (d / "tiny.yaml").write_text(TASK_YAML.format(test=d / "test.jsonl", dev=d / "dev.jsonl"))
    return d


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(3)
    cfg = GPTConfig(n_layers=1, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=1024)
    moe = MoEConfig.from_notation("E4G1T2", shared_experts=1)
    model = build_model(cfg, moe)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)  # a peaked random model: distinct predictions per question
    state = {"model": model.state_dict(), "config": {"model": cfg.__dict__, "moe": moe.__dict__}}
    return save_checkpoint(state, tmp_path / "run", 1)


def test_the_harness_on_a_local_yaml_task_predicts_what_our_mmlu_evaluator_predicts(checkpoint, tmp_path):
    lm = UpcyclingLM(str(checkpoint))
    out = simple_evaluate(model=lm, tasks=["tiny_mmlu_abstract_algebra"], num_fewshot=2, log_samples=True,
                          task_manager=TaskManager(include_path=str(_task_dir(tmp_path)), include_defaults=False))
    samples = sorted(out["samples"]["tiny_mmlu_abstract_algebra"], key=lambda s: s["doc_id"])
    dev = read_split(MMLU / "dev" / f"{SUBJECT}_dev.csv", SUBJECT)
    test = read_split(MMLU / "test" / f"{SUBJECT}_test.csv", SUBJECT)
    assert len(samples) == len(test) > 1
    for s, q in zip(samples, test, strict=True):  # the same prompt, tokens and scores as our evaluator's
        enc = lm.scorer.encode
        want = choice_scores(lm.scorer, enc(build_prompt(dev, q, 2)), [enc(f" {c}") for c in CHOICES])
        assert [r[0] for r in s["filtered_resps"]] == pytest.approx(want, abs=1e-5)
    ours = evaluate(lm.scorer, MMLU.parent, shots=2)
    assert out["results"]["tiny_mmlu_abstract_algebra"]["acc,none"] == pytest.approx(ours.per_subject[SUBJECT])


def test_loglikelihood_is_the_models_sum_of_continuation_log_probs(checkpoint):
    lm = UpcyclingLM(str(checkpoint))
    (ll, greedy), (ll_empty, _) = lm.loglikelihood([
        Instance("loglikelihood", {}, ("def f(x):", " return"), 0),
        Instance("loglikelihood", {}, ("", "abc"), 1),
    ])
    ids = list(b"def f(x): return")
    with torch.no_grad():
        lp = torch.log_softmax(lm.scorer.model(torch.tensor([ids[:-1]])).logits.float(), -1)[0]
    want = sum(float(lp[i - 1, ids[i]]) for i in range(len(b"def f(x):"), len(ids)))
    assert ll == pytest.approx(want, abs=1e-4)
    assert greedy == all(int(lp[i - 1].argmax()) == ids[i] for i in range(len(b"def f(x):"), len(ids)))
    assert ll_empty == pytest.approx(score_continuation(lm.scorer, list(b"\n"), list(b"abc"))[0])


def test_rolling_loglikelihood_is_the_documents_log_likelihood_after_the_newline_prefix(checkpoint):
    lm = UpcyclingLM(str(checkpoint))
    text = "x = 1\ny = x + 2\nprint(y)\n"
    (rolled,) = lm.loglikelihood_rolling([Instance("loglikelihood_rolling", {}, (text,), 0)])
    assert rolled == pytest.approx(score_continuation(lm.scorer, list(b"\n"), list(text.encode()))[0], abs=1e-4)
    lm.scorer.max_len = 8  # several windows: every token still scored once, with less context
    (short,) = lm.loglikelihood_rolling([Instance("loglikelihood_rolling", {}, (text,), 0)])
    assert short < 0 and short != pytest.approx(rolled, abs=1e-3)


def test_generation_tasks_are_refused_naming_the_hf_route(checkpoint):
    with pytest.raises(NotImplementedError, match="lm_eval --model hf"):
        UpcyclingLM(str(checkpoint)).generate_until([])
