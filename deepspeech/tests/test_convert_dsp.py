"""deepspeech.pytorch checkpoints: parity with their model (fixture made once from their code) and bad files.

The fixtures (tests/fixtures/README.md) are real Lightning .ckpt files saved by deepspeech.pytorch's own
``DeepSpeech`` module at random weights, and the log-probabilities their model computed on a padded batch.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from deepspeech.convert_dsp import convert_dsp, main, read_dsp_checkpoint
from deepspeech.features import make_vocab
from deepspeech.infer import Transcriber, load_trained
from deepspeech.model import build_model
from ninerepro.train.checkpoint import CheckpointError, load_checkpoint

FIXTURES = Path(__file__).parent / "fixtures"
VARIANTS = ["dsp_bi_lstm", "dsp_uni_gru"]


@pytest.fixture(scope="module")
def outputs() -> dict:
    return torch.load(FIXTURES / "dsp_outputs.pt", weights_only=True)


def _ours(cfg, state) -> torch.nn.Module:
    model = build_model(cfg, len(make_vocab(cfg.model.vocab)))
    model.load_state_dict(state)
    return model.eval()


def _max_diff(model: torch.nn.Module, expected: dict) -> float:
    with torch.no_grad():
        log_probs, lengths = model(expected["inputs"][:, 0], expected["input_lengths"])  # their [B, 1, F, T]
    assert lengths.tolist() == expected["output_lengths"].tolist()
    return max(float((log_probs[i, :n] - expected["log_probs"][i, :n]).abs().max())
               for i, n in enumerate(lengths.tolist()))


@pytest.mark.parametrize("name", VARIANTS)
def test_converted_checkpoint_reproduces_their_log_probs_on_a_padded_batch(name, outputs):
    cfg, state, ck = convert_dsp(FIXTURES / f"{name}.ckpt")
    assert len(set(outputs[name]["input_lengths"].tolist())) == 3  # really padded: three different lengths
    assert float(ck.state_dict["conv.seq_module.0.bias"].abs().max()) > 0.1  # the bias folding matters
    assert _max_diff(_ours(cfg, state), outputs[name]) <= 1e-5


def test_their_labels_audio_config_and_model_shape_are_carried_over():
    bi, _, _ = convert_dsp(FIXTURES / "dsp_bi_lstm.ckpt")
    uni, _, ck = convert_dsp(FIXTURES / "dsp_uni_gru.ckpt")
    assert (bi.model.rnn_type, bi.model.bidirectional, bi.model.hidden, bi.model.n_layers) == ("lstm", True, 32, 2)
    assert (uni.model.rnn_type, uni.model.bidirectional, uni.model.hidden) == ("gru", False, 16)
    assert ck.lookahead_context == 4 and uni.model.lookahead == 3  # their kernel counts the current frame
    assert bi.model.vocab == uni.model.vocab == "deepspeech_pytorch"
    assert (uni.features.sample_rate, uni.features.window_size, uni.features.window_stride) == (8000, 0.02, 0.01)
    assert ck.lightning_version.startswith("1.")


def test_the_ckpt_loads_directly_and_through_deepspeech_convert_with_the_same_outputs(tmp_path, outputs, capsys):
    direct = Transcriber.from_checkpoint(FIXTURES / "dsp_uni_gru.ckpt")
    assert direct.sample_rate == 8000 and direct.vocab.symbols[2] == "A"
    assert main([str(FIXTURES / "dsp_uni_gru.ckpt"), str(tmp_path / "ours.pt")]) == 0
    assert "unidirectional" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "ours.pt")["config"]["model"]["vocab"] == "deepspeech_pytorch"
    converted = Transcriber.from_checkpoint(tmp_path / "ours.pt")
    for t in (direct, converted):
        assert _max_diff(t.model, outputs["dsp_uni_gru"]) <= 1e-5
    wav = (0.1 * np.sin(np.arange(8000) * 0.05)).astype(np.float32)
    assert direct.transcribe_batch([wav]) == converted.transcribe_batch([wav])


def _resave(tmp_path: Path, name: str, edit) -> Path:
    """The bi fixture re-saved with plain-dict hyperparameters (as OmegaConf.to_container would give), edited."""
    ck = read_dsp_checkpoint(FIXTURES / "dsp_bi_lstm.ckpt")
    payload = {"state_dict": dict(ck.state_dict), "pytorch-lightning_version": "1.9.5", "hyper_parameters": {
        "labels": list(ck.labels), "precision": 32,
        "model_cfg": {"rnn_type": "lstm", "hidden_size": 32, "hidden_layers": 2},
        "spect_cfg": {"sample_rate": 8000, "window_size": 0.02, "window_stride": 0.01, "window": "hamming"}}}
    edit(payload)
    torch.save(payload, tmp_path / name)
    return tmp_path / name


def test_plain_dict_hyperparameters_convert_too(tmp_path, outputs):
    cfg, state = load_trained(_resave(tmp_path, "plain.ckpt", lambda p: None))
    assert _max_diff(_ours(cfg, state), outputs["dsp_bi_lstm"]) <= 1e-5


def _pop_weight(p):
    del p["state_dict"]["rnns.1.rnn.weight_hh_l0"]


def _drop_label(p):
    p["hyper_parameters"]["labels"].pop()


def _rnn_type(p):
    p["hyper_parameters"]["model_cfg"]["rnn_type"] = "rnn"


def _other_labels(p):
    p["hyper_parameters"]["labels"][5] = "#"


def _no_sample_rate(p):
    del p["hyper_parameters"]["spect_cfg"]["sample_rate"]


@pytest.mark.parametrize("edit, message", [
    (_pop_weight, "missing in checkpoint: rnns.1.rnn.weight_hh_l0"),
    (_drop_label, "has 28 labels but the output layer fc.0.module.1.weight has 29 rows"),
    (_rnn_type, "only lstm and gru models convert"),
    (_other_labels, "neither deepspeech.pytorch's labels.json"),
    (_no_sample_rate, "hyper_parameters.spect_cfg has no 'sample_rate'"),
])
def test_a_broken_checkpoint_is_one_line_and_exit_2(tmp_path, capsys, edit, message):
    path = _resave(tmp_path, "broken.ckpt", edit)
    assert _exit_code(path, tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and err.startswith("deepspeech-convert: error: ")
    assert not (tmp_path / "out.pt").exists()


def _exit_code(path: Path, tmp_path: Path) -> int:
    with pytest.raises(SystemExit) as e:
        main([str(path), str(tmp_path / "out.pt")])
    return int(e.value.code)


@pytest.mark.parametrize("make", [
    lambda d: torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "hyper_parameters": {"lr": 0.1}},
                         d / "other.ckpt"),
    lambda d: torch.save({"state_dict": {"layer.weight": torch.zeros(2)}, "epoch": 3}, d / "other.ckpt"),
    lambda d: (d / "other.ckpt").write_bytes(b"PK\x03\x04 not really a zip"),
    lambda d: torch.save({"state_dict": {"conv.0.weight": torch.zeros(2)}, "audio_conf": {"sample_rate": 16000},
                          "labels": "_'AB "}, d / "other.ckpt"),  # the pre-Lightning package format
    lambda d: torch.save({"state_dict": {}, "hyper_parameters": argparse.Namespace(lr=0.1)}, d / "other.ckpt"),
])
def test_a_checkpoint_that_is_not_deepspeech_pytorch_is_one_line_and_exit_2(tmp_path, capsys, make):
    make(tmp_path)
    assert _exit_code(tmp_path / "other.ckpt", tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert "other.ckpt" in err and "\n" not in err
    assert "deepspeech-convert reads the Lightning .ckpt" in err or "only the Lightning .ckpt files" in err


def test_error_messages_name_commands_that_exist(tmp_path):
    scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"deepspeech-convert", "deepspeech-train"} <= set(scripts)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError) as e:
        load_trained(tmp_path / "junk.pt")
    assert "convert.py" not in str(e.value) and "deepspeech-convert IN.ckpt OUT.pt" in str(e.value)
