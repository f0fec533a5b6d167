"""CUDA correctness (``make test-gpu`` / ``make gpu-check``): the official-format fixture gives the official
outputs on CUDA too (TF32 off), the sparse gate check gives the same mel as the per-frame one, and bf16 autocast
stays within a stated tolerance. Skipped where no GPU is visible."""

from __future__ import annotations

import pytest
import torch
from flowtron_testkit import FIXTURES, official_outputs, valid

from flowtron import load_checkpoint
from ninerepro.train.precision import true_fp32

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
ATOL_CUDA = 1e-4  # cuDNN's LSTM and reductions sum in another order than the CPU kernels


@pytest.fixture(autouse=True)
def no_tf32():
    with true_fp32():
        yield


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(FIXTURES / "official_tiny_state_dict.pt", device="cuda")


def cuda(d: dict) -> dict:
    return {k: v.cuda() if torch.is_tensor(v) else v for k, v in d.items()}


def test_cuda_forward_equals_the_official_cpu_outputs(model):
    ref = official_outputs()
    x = cuda(ref["inputs"])
    with torch.no_grad():
        out = model(x["mel"], x["speaker_ids"], x["text"], x["in_lens"], x["out_lens"], x["attn_prior"])
    lens = ref["inputs"]["out_lens"]
    for a, b in zip(valid(out.z.cpu(), lens, 2), valid(ref["forward_prior"]["z"], lens, 2)):
        torch.testing.assert_close(a, b, atol=ATOL_CUDA, rtol=0)


def test_cuda_inference_equals_the_official_and_sparse_gate_checks_change_nothing(model):
    ref = official_outputs()
    ii = cuda(ref["infer_inputs"])
    r = ref["infer_gate"]
    mel, _ = model.infer(ii["z_gate"], ii["speaker_ids"], ii["text"], gate_threshold=r["gate_threshold"])
    assert mel.shape == r["mel"].shape
    torch.testing.assert_close(mel.cpu(), r["mel"], atol=ATOL_CUDA, rtol=0)
    sparse, _ = model.infer(ii["z_gate"], ii["speaker_ids"], ii["text"], gate_threshold=r["gate_threshold"],
                            gate_check_every=16)
    torch.testing.assert_close(sparse, mel, atol=0, rtol=0)


def test_bf16_autocast_inference_stays_within_five_percent_of_the_mel_range(model):
    ref = official_outputs()
    ii = cuda(ref["infer_inputs"])
    full, _ = model.infer(ii["z_random"], ii["speaker_ids"], ii["text"], gate_threshold=1.0)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        half, _ = model.infer(ii["z_random"], ii["speaker_ids"], ii["text"], gate_threshold=1.0)
    assert torch.isfinite(half).all()
    span = float(full.max() - full.min())
    assert float((half.float() - full).abs().max()) < 0.05 * span
