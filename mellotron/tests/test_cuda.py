"""CUDA correctness (``make test-gpu`` / ``make gpu-check``): the official-format fixture gives the official
outputs on CUDA too, and bf16 autocast stays within a stated tolerance. Skipped where no GPU is visible."""

from __future__ import annotations

import pytest
import torch
from ml_testkit import official_model, official_outputs

from ninerepro.train.precision import true_fp32

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(autouse=True)
def no_tf32():
    with true_fp32():
        yield


def cuda_inputs(ref: dict) -> dict:
    return {k: v.cuda() for k, v in ref["inputs"].items()}


def test_cuda_teacher_forced_outputs_equal_the_official_cpu_outputs():
    ref = official_outputs()
    x = cuda_inputs(ref)
    model = official_model().cuda()
    with torch.no_grad():
        out = model(x["text"], x["text_lengths"], x["mel"], x["output_lengths"], x["speaker_ids"], x["f0"])
    for name, ours in zip(("mel", "mel_postnet", "gate", "alignments"), out):
        torch.testing.assert_close(ours.cpu(), ref["forward"][name], atol=1e-4, rtol=0, msg=name)


def test_cuda_inference_stops_at_the_official_step():
    ref = official_outputs()
    x = cuda_inputs(ref)
    model = official_model().cuda()
    outs = model.inference(x["text"][:1], x["ref_mel"], x["speaker_ids"][:1], x["f0"][:1],
                           gate_threshold=float(ref["inference_gate_threshold"]),
                           max_decoder_steps=int(ref["inference_max_decoder_steps"]))
    assert outs[0].shape == ref["inference"][0].shape


def test_bf16_autocast_mel_stays_within_five_percent_of_its_range():
    ref = official_outputs()
    x = cuda_inputs(ref)
    model = official_model().cuda()
    with torch.no_grad():
        full = model(x["text"], x["text_lengths"], x["mel"], x["output_lengths"], x["speaker_ids"], x["f0"])[1]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            half = model(x["text"], x["text_lengths"], x["mel"], x["output_lengths"], x["speaker_ids"], x["f0"])[1]
    assert torch.isfinite(half).all()
    span = float(full.max() - full.min())
    assert float((half.float() - full).abs().max()) < 0.05 * span
