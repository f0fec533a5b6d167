"""The official API shapes and the input checks that name the fix."""

from __future__ import annotations

import pytest
import torch
from ml_testkit import official_model, tiny_config

from mellotron import Mellotron, MellotronInputError, MellotronModelConfig


def test_parameter_counts_equal_the_official_model():
    # counted on NVIDIA/mellotron d5362cc built from its hparams.py (tts spec §12)
    assert sum(p.numel() for p in Mellotron().parameters()) == 31_942_946
    assert sum(p.numel() for p in Mellotron(MellotronModelConfig(n_speakers=1)).parameters()) == 31_927_330


@pytest.fixture(scope="module")
def model():
    return official_model()


def test_teacher_forced_shapes_are_the_official_ones(model):
    text, mel = torch.randint(1, 185, (2, 7)), torch.randn(2, 80, 11) - 4
    out = model(text, torch.tensor([7, 5]), mel, torch.tensor([11, 8]), torch.tensor([0, 1]), torch.zeros(2, 1, 11))
    assert [tuple(o.shape) for o in out] == [(2, 80, 11), (2, 80, 11), (2, 11), (2, 11, 7)]


def test_batched_text_encoding_equals_one_utterance_at_a_time(model):
    """The pad id 0 is '!' with a non-zero embedding; the per-utterance convs keep it out of shorter rows."""
    text = torch.randint(1, 185, (2, 9))
    text[1, 5:] = 0
    emb = model.embedding(text).transpose(1, 2)
    batched = model.encoder(emb, torch.tensor([9, 5]))
    alone = model.encoder.inference(model.embedding(text[1:, :5]).transpose(1, 2))
    torch.testing.assert_close(batched[1, :5], alone[0], atol=1e-6, rtol=0)


def test_prenet_dropout_on_varies_inference_and_off_is_deterministic(model):
    text, f0 = torch.randint(1, 185, (1, 6)), torch.zeros(1, 1, 20)
    model.prenet_dropout = False
    a = model.inference(text, 2, torch.tensor([0]), f0, gate_threshold=1.1, max_decoder_steps=10)[0]
    b = model.inference(text, 2, torch.tensor([0]), f0, gate_threshold=1.1, max_decoder_steps=10)[0]
    assert torch.equal(a, b)
    model.prenet_dropout = True
    c = model.inference(text, 2, torch.tensor([0]), f0, gate_threshold=1.1, max_decoder_steps=10)[0]
    model.prenet_dropout = False
    assert not torch.equal(a, c)


def test_a_style_token_gives_that_tokens_value_projection(model):
    token = model.gst.stl.token(4)
    expected = model.gst.stl.attention.W_value(torch.tanh(model.gst.stl.embed[4]))
    torch.testing.assert_close(token[0, 0], expected)


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: m.inference(torch.randint(1, 185, (1, 4)), 0, torch.tensor([3]), torch.zeros(1, 1, 5)),
     "speaker id"),
    (lambda m: m.inference(torch.zeros(1, 0, dtype=torch.long), 0, torch.tensor([0]), torch.zeros(1, 1, 5)),
     "non-empty"),
    (lambda m: m.inference(torch.randint(1, 185, (1, 4)), 12, torch.tensor([0]), torch.zeros(1, 1, 5)),
     "style token 12"),
    (lambda m: m.inference(torch.randint(1, 185, (1, 4)), torch.randn(1, 40, 9), torch.tensor([0]),
                           torch.zeros(1, 1, 5)), "reference mel"),
    (lambda m: m.inference(torch.randint(1, 185, (1, 4)), 0, torch.tensor([0]), torch.zeros(1, 5)), "f0 must be"),
    (lambda m: m.inference_noattention(torch.randint(1, 185, (1, 4)), 0, torch.tensor([0]), torch.zeros(1, 1, 5),
                                       torch.rand(9, 1, 4)), "f0 has 5 frames but the rhythm has 9"),
    (lambda m: m.inference_noattention(torch.randint(1, 185, (1, 4)), 0, torch.tensor([0]), torch.zeros(1, 1, 9),
                                       torch.rand(9, 4)), "attention_map must be"),
])
def test_bad_inputs_raise_an_error_that_names_the_fix(model, call, message):
    with pytest.raises(MellotronInputError, match=message):
        call(model)


def test_tiny_config_builds_from_official_names():
    cfg = tiny_config(n_speakers=5)
    assert Mellotron(cfg).speaker_embedding.num_embeddings == 5
    assert cfg.memory_dim == 32 + 16 + 8
