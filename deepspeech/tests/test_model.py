"""Architecture invariants of DS1 and DS2 (shapes, strides, clipping, shared input weights, lookahead)."""

from __future__ import annotations

import pytest
import torch
from ds_testkit import tiny_config

from deepspeech.config import CONV_VARIANTS
from deepspeech.layers import RowConv, SharedInputBiRNN, clipped_relu
from deepspeech.model import build_model


@pytest.mark.parametrize("conv", sorted(CONV_VARIANTS))
def test_every_paper_conv_variant_gives_the_frames_its_output_lengths_promise(conv):
    channels = ",".join(["3"] * len(CONV_VARIANTS[conv]))
    model = build_model(tiny_config(f"model.conv={conv}", f"model.conv_channels=[{channels}]"), 29).eval()
    x, lengths = torch.randn(2, 161, 57), torch.tensor([57, 40])
    log_probs, out_lengths = model(x, lengths)
    assert log_probs.shape == (2, int(out_lengths.max()), 29)
    assert torch.equal(out_lengths, model.output_lengths(lengths))
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(2, log_probs.shape[1]), atol=1e-5)


@pytest.mark.parametrize("rnn_type", ["gru", "rnn", "lstm"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_ds2_runs_with_every_cell_in_both_directions(rnn_type, bidirectional):
    cfg = tiny_config(f"model.rnn_type={rnn_type}", f"model.bidirectional={str(bidirectional).lower()}",
                      "model.lookahead=3")
    model = build_model(cfg, 29)
    assert (model.lookahead is None) == bidirectional
    log_probs, _ = model(torch.randn(2, 161, 30), torch.tensor([30, 25]))
    log_probs.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_clipped_relu_is_min_max_zero_twenty():
    x = torch.tensor([-5.0, 0.0, 3.0, 20.0, 25.0])
    assert clipped_relu(x).tolist() == [0.0, 0.0, 3.0, 20.0, 20.0]


def test_ds1_shares_the_input_projection_between_directions_and_sums_them():
    torch.manual_seed(0)
    layer = SharedInputBiRNN(4, 5, clip=20.0)
    with torch.no_grad():
        layer.U_b.weight.copy_(layer.U_f.weight)
    x = torch.randn(1, 6, 4)
    out = layer(x, torch.tensor([6]))
    # with equal recurrent matrices, the backward pass over reversed time is the forward pass of reversed x
    mirrored = layer(x.flip(1), torch.tensor([6]))
    assert torch.allclose(out, mirrored.flip(1), atol=1e-6)
    assert not hasattr(layer, "W_b")  # one input matrix only


def test_ds1_model_reads_context_stacked_frames():
    cfg = tiny_config("model.arch=ds1", "features.context=2")
    model = build_model(cfg, 29)
    log_probs, lengths = model(torch.randn(2, 5 * 161, 12), torch.tensor([12, 7]))
    assert log_probs.shape == (2, 12, 29) and lengths.tolist() == [12, 7]


def test_row_convolution_sees_exactly_tau_future_frames():
    torch.manual_seed(0)
    row = RowConv(3, lookahead=2, clip=1e9)
    with torch.no_grad():
        row.conv.weight.uniform_(0.5, 1.0)
    x = torch.rand(1, 10, 3)
    base = row(x, torch.tensor([10]))
    x2 = x.clone()
    x2[0, 6] += 1.0  # frame 6 may influence outputs 4, 5, 6 only
    changed = (row(x2, torch.tensor([10])) - base).abs().sum(-1)[0] > 0
    assert changed.nonzero().flatten().tolist() == [4, 5, 6]


@pytest.mark.parametrize("rnn_type", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_cpu_time_loop_equals_the_packed_rnn_in_outputs_and_gradients(rnn_type, bidirectional):
    from deepspeech.layers import BatchRNN
    from deepspeech.rnn_loop import run_rnn_loop

    torch.manual_seed(0)
    layer = BatchRNN(6, 5, rnn_type, bidirectional, batch_norm=False)
    x, lengths = torch.randn(3, 9, 6, requires_grad=True), torch.tensor([9, 4, 7])
    ref = layer.packed(x, lengths)
    ref.pow(2).sum().backward()
    ref_grads = [x.grad.clone()] + [p.grad.clone() for p in layer.parameters()]
    x.grad = None
    layer.zero_grad()
    out = run_rnn_loop(layer.rnn, rnn_type, x, lengths)
    out.pow(2).sum().backward()
    grads = [x.grad] + [p.grad for p in layer.parameters()]
    assert torch.allclose(out, ref, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(grads, ref_grads))
