"""CUDA correctness (run by `make test-gpu` and `make gpu-check`): cuDNN RNNs equal the CPU model in fp32,
and mixed precision stays within stated tolerances. Skipped where no GPU is visible."""

from __future__ import annotations

import pytest
import torch
from ds_testkit import tiny_config

from deepspeech.model import build_model
from ninerepro.train.precision import autocast, true_fp32

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(autouse=True)
def no_tf32():
    with true_fp32():
        yield


def model_and_batch(rnn_type: str = "gru"):
    torch.manual_seed(0)
    model = build_model(tiny_config(f"model.rnn_type={rnn_type}"), 29).eval()
    x, lengths = torch.randn(3, 161, 60, generator=torch.Generator().manual_seed(1)), torch.tensor([60, 45, 31])
    return model, x, lengths


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
def test_cuda_fp32_log_probs_equal_cpu_on_a_padded_batch(rnn_type):
    model, x, lengths = model_and_batch(rnn_type)
    with torch.no_grad():
        cpu, cpu_lengths = model(x, lengths)
        gpu, gpu_lengths = model.cuda()(x.cuda(), lengths.cuda())
    assert torch.equal(gpu_lengths.cpu(), cpu_lengths)
    for b, n in enumerate(cpu_lengths.tolist()):  # padded frames past each length are not compared
        torch.testing.assert_close(gpu[b, :n].cpu(), cpu[b, :n], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_posteriors_stay_within_five_percent_of_fp32(precision):
    model, x, lengths = model_and_batch()
    model, x, lengths = model.cuda(), x.cuda(), lengths.cuda()
    with torch.no_grad():
        reference, _ = model(x, lengths)
        with autocast(precision, torch.device("cuda")):
            mixed, _ = model(x, lengths)
    assert torch.isfinite(mixed).all()
    assert (mixed.float().exp() - reference.exp()).abs().max().item() < 5e-2
