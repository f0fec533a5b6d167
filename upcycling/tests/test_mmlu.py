"""MMLU: the official CSV layout and prompt, scoring by continuation log-likelihood, for our and HF models."""

from pathlib import Path

import pytest
import torch

from ninerepro.train.checkpoint import save_checkpoint
from upcycling.cli import main as cli_main
from upcycling.config import GPTConfig
from upcycling.eval.mmlu import Scorer, build_prompt, evaluate, read_split, subjects
from upcycling.model import build_model

DATA = Path(__file__).resolve().parent / "fixtures" / "mmlu"


def test_the_official_csv_layout_is_read_with_its_quoting():
    root = DATA / "data"
    assert subjects(root) == ["abstract_algebra", "high_school_geography"]
    dev = read_split(root / "dev" / "abstract_algebra_dev.csv", "abstract_algebra")
    assert len(dev) == 5 and dev[1].options == ("True, True", "False, False", "True, False", "False, True")
    assert dev[1].question.startswith("Statement 1 | Every cyclic group") and dev[1].answer == "C"


def test_the_prompt_is_the_official_one_with_its_double_space():
    root = DATA / "data"
    dev = read_split(root / "dev" / "abstract_algebra_dev.csv", "abstract_algebra")
    q = read_split(root / "test" / "abstract_algebra_test.csv", "abstract_algebra")[0]
    prompt = build_prompt(dev, q, 1)
    assert prompt == ("The following are multiple choice questions (with answers) about  abstract algebra.\n\n"
                      "How many elements does the group Z_2 x Z_2 have?\nA. 2\nB. 4\nC. 6\nD. 8\nAnswer: B\n\n"
                      "What is the order of the cyclic group Z_6?\nA. 2\nB. 3\nC. 6\nD. 12\nAnswer:")


class _Oracle(Scorer):
    """A byte-level 'model' that puts all its mass on the right letter after 'Answer: ' for known questions."""

    max_len = 4096

    def __init__(self, answers: dict[str, str], wrong: bool = False):
        self.answers, self.wrong = answers, wrong

    def encode(self, text):
        return list(text.encode())

    def logprobs(self, tokens):
        text = bytes(tokens[0].tolist()).decode()
        out = torch.full((1, tokens.shape[1], 256), -20.0)
        last_q = text.rsplit("\n\n", 1)[-1].split("\n")[0]
        letter = self.answers[last_q]
        if self.wrong:
            letter = "ABCD"[("ABCD".index(letter) + 1) % 4]
        out[0, -1, ord(letter)] = 0.0  # tokens end with the shared ' '; the next byte is the letter
        return out


def _answers():
    root = DATA / "data"
    return {q.question: q.answer for s in subjects(root) for q in read_split(root / "test" / f"{s}_test.csv", s)}


def test_the_evaluator_scores_an_oracle_at_100_percent_and_a_shifted_one_at_0():
    assert evaluate(_Oracle(_answers()), DATA, shots=5).accuracy == 1.0
    res = evaluate(_Oracle(_answers(), wrong=True), DATA, shots=5)
    assert res.accuracy == 0.0 and res.n_questions == 5 and set(res.per_subject) == {"abstract_algebra",
                                                                                  "high_school_geography"}


def test_shots_are_dropped_to_fit_a_short_context():
    oracle = _Oracle(_answers())
    oracle.max_len = 300
    res = evaluate(oracle, DATA, shots=5)
    assert res.reduced_shots == res.n_questions and res.accuracy == 1.0


def test_the_mmlu_command_evaluates_our_checkpoint_and_an_hf_folder(tmp_path, capsys):
    cfg = GPTConfig(n_layers=1, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=1024)
    state = {"model": build_model(cfg).state_dict(), "config": {"model": cfg.__dict__, "moe": None}}
    ckpt = save_checkpoint(state, tmp_path / "run", 1)
    out = tmp_path / "mmlu.json"
    assert cli_main(["mmlu", "--model", str(ckpt), "--data", str(DATA), "--out", str(out)]) == 0
    assert "MMLU 5-shot (test)" in capsys.readouterr().out and '"n_questions": 5' in out.read_text()
    from upcycling.hf.tiny import make_tiny_dense

    make_tiny_dense(tmp_path / "hf", "llama", max_position_embeddings=2048)
    assert cli_main(["mmlu", "--model", str(tmp_path / "hf"), "--data", str(DATA), "--shots", "1"]) == 0
    assert "MMLU 1-shot" in capsys.readouterr().out


def test_a_folder_that_is_not_mmlu_is_refused_in_one_line(tmp_path, capsys):
    assert cli_main(["mmlu", "--model", "x.pt", "--data", str(tmp_path), "--shots", "5"]) == 2
    err = capsys.readouterr().err
    assert "no dev/ folder" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("shots", ["-1", "6"])
def test_shots_outside_the_dev_split_are_refused(shots, capsys):
    assert cli_main(["mmlu", "--model", "x.pt", "--data", str(DATA), "--shots", shots]) == 2
