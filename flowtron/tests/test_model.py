"""Model structure: official parameter counts, official key names, batching, invertibility, gate control."""

from __future__ import annotations

import pytest
import torch
from flowtron_testkit import tiny_model

from flowtron import Flowtron, FlowtronInputError, ModelConfig


@pytest.mark.parametrize("overrides,count", [
    ({}, 60_977_473),
    ({"n_speakers": 123}, 60_993_089),
    ({"n_flows": 1}, 33_293_857),
    ({"n_flows": 3}, 88_661_089),
    ({"n_components": 8}, 63_470_921),
])
def test_parameter_counts_equal_the_official(overrides, count):
    with torch.device("meta"):  # shapes only: no 61 M random numbers to draw
        assert Flowtron(ModelConfig(**overrides)).parameter_count() == count


def test_gate_and_flow_key_names_follow_the_official_layout():
    two = set(Flowtron(ModelConfig(n_flows=2, n_hidden=16, n_attn_channels=8, n_text_dim=8)).state_dict())
    one = set(Flowtron(ModelConfig(n_flows=1, n_hidden=16, n_attn_channels=8, n_text_dim=8)).state_dict())
    assert "flows.1.ar_step.gate_layer.linear_layer.weight" in two
    assert "flows.0.gate_layer.linear_layer.weight" in one
    assert "encoder.convolutions.0.1.weight" in one  # masked instance norm, affine


def test_a_padded_batch_gives_each_item_what_it_gives_alone():
    model = tiny_model()
    g = torch.Generator().manual_seed(1)
    text = torch.randint(1, 185, (2, 9), generator=g)
    text[1, 6:] = 0
    mel = torch.randn(2, 80, 14, generator=g)
    mel[1, :, 10:] = 0
    in_lens, out_lens, spk = torch.tensor([9, 6]), torch.tensor([14, 10]), torch.tensor([0, 2])
    with torch.no_grad():
        both = model(mel, spk, text, in_lens, out_lens)
        alone = model(mel[1:, :, :10], spk[1:], text[1:, :6], in_lens[1:], out_lens[1:])
    torch.testing.assert_close(both.z[1, :, :10], alone.z[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(both.log_s[1][1, :10], alone.log_s[1][0], atol=1e-5, rtol=0)
    torch.testing.assert_close(both.attention[1][1, :10, :6], alone.attention[1][0], atol=1e-5, rtol=0)


def test_infer_inverts_forward_for_a_random_model():
    model = tiny_model(seed=3)
    z = torch.randn(1, 80, 17, generator=torch.Generator().manual_seed(0))
    text, spk = torch.randint(1, 185, (1, 7)), torch.tensor([1])
    mel, attention = model.infer(z, spk, text, gate_threshold=1.0)
    assert mel.shape == (1, 80, 17) and [a.shape for a in attention] == [(1, 17, 7)] * 2
    with torch.no_grad():
        back = model(mel, spk, text, torch.tensor([7]), None).z
    torch.testing.assert_close(back, z, atol=1e-4, rtol=0)


def test_a_gate_threshold_of_one_never_stops_and_a_low_one_stops_at_once():
    model = tiny_model(seed=4)
    z, text, spk = torch.randn(1, 80, 12), torch.randint(1, 185, (1, 5)), torch.tensor([0])
    assert model.infer(z, spk, text, gate_threshold=1.0)[0].shape[2] == 12
    assert model.infer(z, spk, text, gate_threshold=0.0)[0].shape[2] == 1


def test_sparse_gate_checks_return_the_same_frames():
    model = tiny_model(seed=5)
    z, text, spk = torch.randn(1, 80, 30), torch.randint(1, 185, (1, 6)), torch.tensor([0])
    with torch.no_grad():
        gate = model.flows[-1].ar_step.gate_layer
        gate.linear_layer.bias.fill_(0.0)
    for threshold in (0.45, 0.5, 0.55):
        dense, _ = model.infer(z, spk, text, gate_threshold=threshold)
        sparse, _ = model.infer(z, spk, text, gate_threshold=threshold, gate_check_every=8)
        torch.testing.assert_close(sparse, dense, atol=0, rtol=0)


def test_forced_attention_from_the_forward_pass_reproduces_the_mel():
    """Official ``infer(attns=...)`` crashes; ours takes the per-flow alignments of a forward pass."""
    model = tiny_model(seed=6)
    mel = torch.randn(1, 80, 11)
    text, spk = torch.randint(1, 185, (1, 5)), torch.tensor([2])
    with torch.no_grad():
        out = model(mel, spk, text, torch.tensor([5]), None)
    again, _ = model.infer(out.z, spk, text, gate_threshold=1.0, attns=out.attention)
    torch.testing.assert_close(again, mel, atol=1e-4, rtol=0)


@pytest.mark.parametrize("kwargs,message", [
    ({"speaker_ids": torch.tensor([7])}, "outside this model's table"),
    ({"text": torch.zeros(1, 0, dtype=torch.long)}, "L >= 1"),
    ({"text": torch.tensor([[1, 500]])}, "symbol ids outside"),
    ({"residual": torch.zeros(1, 40, 5)}, "residual must be"),
    ({"temperature": 0.0}, "temperature must be > 0"),
])
def test_bad_requests_are_refused_with_a_reason(kwargs, message):
    model = tiny_model()
    args = {"residual": torch.zeros(1, 80, 5), "speaker_ids": torch.tensor([0]), "text": torch.tensor([[3, 4]])}
    args |= kwargs
    with pytest.raises(FlowtronInputError, match=message):
        model.infer(**args)
