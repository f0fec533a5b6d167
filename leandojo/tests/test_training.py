"""Training through ninerepro.train, export/load round trips, mismatched checkpoints, and the retrieve-eval CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ninerepro.train import CheckpointError, load_config
from reprover.data.positions import Pos
from reprover.generation.checkpoint import load_generator
from reprover.generation.config import GeneratorRunConfig
from reprover.retrieval.checkpoint import load_dense_retriever, load_retriever_model
from reprover.retrieval.config import RetrieverRunConfig
from reprover.training.generator import build_generator_trainer, train_generator
from reprover.training.retriever import build_retriever_trainer, train_retriever

CONFIGS = Path(__file__).parents[1] / "configs"
FAST = ["model.arch.d_model=32", "model.arch.d_ff=64", "model.arch.d_kv=8", "model.arch.num_layers=1",
        "model.arch.num_decoder_layers=1", "train.max_steps=4", "train.val_every=2", "train.log_every=2"]


@pytest.fixture(scope="module")
def retriever_run(tmp_path_factory, fixture_root) -> Path:
    cfg = load_config(RetrieverRunConfig, CONFIGS / "retriever_tiny.json", [f"data.data_path={fixture_root}", *FAST])
    run = tmp_path_factory.mktemp("retriever")
    out = train_retriever(cfg, run)
    assert out == run / "final"
    return run


@pytest.fixture(scope="module")
def generator_run(tmp_path_factory, fixture_root, retriever_run) -> Path:
    cfg = load_config(GeneratorRunConfig, CONFIGS / "generator_tiny.json",
                      [f"data.data_path={fixture_root}", f"data.retriever={retriever_run / 'final'}", *FAST])
    run = tmp_path_factory.mktemp("generator")
    train_generator(cfg, run)
    return run


def test_retriever_training_writes_metrics_checkpoint_best_and_final(retriever_run):
    lines = [json.loads(x) for x in (retriever_run / "metrics.jsonl").read_text().splitlines()]
    assert any(x["split"] == "val" and "R@10" in x for x in lines)
    assert all((retriever_run / d / "model.safetensors").is_file() for d in ("best", "final"))
    assert list(retriever_run.glob("ckpt_*.pt"))


def test_the_export_the_run_folder_and_the_checkpoint_file_load_the_same_retriever(retriever_run):
    import torch

    a, _, cfg = load_retriever_model(retriever_run / "final")
    b, _, _ = load_retriever_model(retriever_run)
    c, _, _ = load_retriever_model(next(retriever_run.glob("ckpt_*.pt")))
    assert cfg.kind == "retriever"
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]) and torch.equal(value, c.state_dict()[key])


def test_a_retriever_whose_config_does_not_match_its_weights_is_refused(retriever_run, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(retriever_run / "final", bad)
    hf = json.loads((bad / "hf_config.json").read_text())
    hf["d_model"] = 48
    (bad / "hf_config.json").write_text(json.dumps(hf))
    with pytest.raises(CheckpointError, match="disagree"):
        load_retriever_model(bad)
    cfg = json.loads((bad / "reprover.json").read_text())
    cfg["model"]["arch"]["d_model"] = 48  # now config and HF config agree, but the weights do not fit
    (bad / "reprover.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_retriever_model(bad)


def test_a_generator_checkpoint_is_not_accepted_as_a_retriever(generator_run):
    with pytest.raises(CheckpointError, match="generator checkpoint, not a retriever"):
        load_retriever_model(generator_run / "final")


def test_the_loaded_dense_retriever_ranks_only_accessible_premises(retriever_run, bench):
    from reprover.retrieval.retriever import Query

    retriever = load_dense_retriever(retriever_run / "final", bench.corpus)
    thm = bench.split("random", "test")[0]
    ranked = retriever.retrieve([Query(thm.traced_tactics[0].state_before, thm.file_path, thm.start)], 100)[0]
    assert len(ranked) == len(bench.corpus.accessible_premises(thm.file_path, thm.start))


def test_load_generator_with_a_retriever_gives_a_working_tactic_generator(generator_run, retriever_run, fixture_root):
    gen = load_generator(generator_run / "final", retriever_run / "final", data_dir=fixture_root)
    text = gen.model_input("n : ℕ\n⊢ n + 0 = n", "Mathlib/Toy/Parity.lean", Pos(30, 1))
    assert text.endswith("n : ℕ\n⊢ n + 0 = n") and len(text.encode()) <= gen.max_inp_seq_len
    out = gen.generate("n : ℕ\n⊢ n + 0 = n", "Mathlib/Toy/Parity.lean", "Toy.x", Pos(30, 1), 4)
    assert len(out) <= 4 and all(s <= 0 for _, s in out)


def test_rerunning_a_finished_training_resumes_instead_of_retraining(retriever_run, fixture_root):
    cfg = load_config(RetrieverRunConfig, CONFIGS / "retriever_tiny.json", [f"data.data_path={fixture_root}", *FAST])
    before = sorted(p.name for p in retriever_run.glob("ckpt_*.pt"))
    train_retriever(cfg, retriever_run)
    assert sorted(p.name for p in retriever_run.glob("ckpt_*.pt")) == before


def test_retrieve_eval_cli_writes_the_metrics_json_and_table(tmp_path, fixture_root, retriever_run):
    from reprover.cli import main

    for spec in ("bm25", str(retriever_run / "final")):
        out = tmp_path / "r.json"
        assert main(["retrieve-eval", "--data", str(fixture_root), "--split", "novel_premises", "--subset", "val",
                     "--retriever", spec, "--output", str(out)]) == 0
        m = json.loads(out.read_text())
        assert set(m) == {"R@1", "R@10", "MRR", "n"} and m["n"] > 0 and 0 <= m["R@10"] <= 100
        assert "| R@1 (%)" in out.with_suffix(".md").read_text()


def test_retrieve_eval_reports_a_missing_split_file_and_a_missing_checkpoint(bench_copy, tmp_path, capsys):
    from reprover.cli import main

    (bench_copy / "random" / "test.json").unlink()
    assert main(["retrieve-eval", "--data", str(bench_copy), "--retriever", "bm25",
                 "--output", str(tmp_path / "x.json")]) == 2
    assert "split file missing" in capsys.readouterr().err
    assert main(["retrieve-eval", "--data", str(bench_copy), "--subset", "val", "--retriever",
                 str(tmp_path / "nope"), "--output", str(tmp_path / "x.json")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_train_entry_point_rejects_an_unknown_part(capsys):
    import runpy
    import sys

    sys_argv = sys.argv
    try:
        sys.argv = ["train.py", "critic"]
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(Path(__file__).parents[1] / "train.py"), run_name="__main__")
        assert exit_info.value.code == 2
    finally:
        sys.argv = sys_argv
    assert "usage: python train.py" in capsys.readouterr().err


@pytest.mark.parametrize(("run_cls", "name", "build"), [
    (RetrieverRunConfig, "retriever_tiny.json", build_retriever_trainer),
    (GeneratorRunConfig, "generator_tiny.json", build_generator_trainer),
], ids=["retriever", "generator"])
def test_fresh_runs_of_one_config_start_from_the_same_weights(run_cls, name, build, fixture_root, tmp_path):
    """The demo's numbers must reproduce: initial weights may not depend on what the process drew before."""
    import torch

    cfg = load_config(run_cls, CONFIGS / name, [f"data.data_path={fixture_root}", *FAST])
    weights = []
    for i in range(2):
        torch.manual_seed(100 + i)  # a different global RNG state before each build, as in two processes
        trainer = build(cfg, tmp_path / f"run{i}")
        weights.append({k: v.detach().clone() for k, v in trainer.model.state_dict().items()})
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(v, weights[1][k]) for k, v in weights[0].items())
