"""train.py refuses bad configs and a missing benchmark with one line that names the fix, not a traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path

LEANDOJO = Path(__file__).parents[1]


def _train_main():
    spec = importlib.util.spec_from_file_location("leandojo_train_entry", LEANDOJO / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_an_unknown_override_key_is_refused_with_the_valid_keys(tmp_path, capsys):
    rc = _train_main()(["generator", "-c", str(LEANDOJO / "configs" / "generator_tiny.json"),
                        "--run-dir", str(tmp_path / "run"), "retriever=runs/retriever/best"])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown config key 'retriever'" in err and "data" in err
    assert not (tmp_path / "run").exists()


def test_a_missing_benchmark_points_at_make_data_leandojo(tmp_path, capsys):
    rc = _train_main()(["retriever", "-c", str(LEANDOJO / "configs" / "retriever_tiny.json"),
                        "--run-dir", str(tmp_path / "run"), f"data.data_path={tmp_path / 'nope'}"])
    err = capsys.readouterr().err
    assert rc == 2 and "make data-leandojo" in err and str(tmp_path / "nope") in err


def test_an_unknown_part_prints_the_usage(capsys):
    assert _train_main()(["tokenizer"]) == 2
    assert "retriever,generator" in capsys.readouterr().err
