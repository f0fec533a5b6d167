"""CUDA correctness of the HF backend with the embedded SmolLM2 (run where a GPU is visible)."""

from __future__ import annotations

import pytest
import torch

from ninerepro.lm import Sampling
from ninerepro.lm.embedded import has_smollm2

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
              pytest.mark.skipif(not has_smollm2(), reason="embedded SmolLM2 not installed (make setup)")]

PROMPTS = ["Q: What is the capital of France?\nA: Paris is the capital of France.\n\n"
           "Q: What is the capital of Italy?\n",
           "Question: Who wrote Hamlet?\nAnswer:"]


def _backend(device: str, dtype: str):
    from ninerepro.lm.hf import HFBackend

    return HFBackend.load(None, device=device, dtype=dtype, batch_size=4)


def test_greedy_on_cuda_fp32_equals_cpu():
    g = Sampling(max_new_tokens=12, greedy=True)
    cpu = _backend("cpu", "float32").generate(PROMPTS, g)
    gpu = _backend("cuda", "float32").generate(PROMPTS, g)
    assert [a.text for a in gpu] == [b.text for b in cpu]
    for a, b in zip(gpu, cpu):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-3)


def test_bf16_logprobs_are_within_0_1_nats_of_fp32_on_the_fp32_greedy_path():
    """bf16 has 8 mantissa bits; per-token log-probs of the same tokens agree to ~0.1 nat on this model."""
    fp32 = _backend("cuda", "float32")
    bf16 = _backend("cuda", "bfloat16")
    ref = fp32.generate(PROMPTS, Sampling(max_new_tokens=8, greedy=True))
    for prompt, r in zip(PROMPTS, ref):
        ids = bf16.encode([prompt + r.text])[0]
        with torch.inference_mode():
            logits = bf16.model(input_ids=torch.tensor([ids], device="cuda")).logits[0].float()
        logp = torch.log_softmax(logits, -1)
        n = len(r.logprobs)
        got = [float(logp[j - 1, ids[j]]) for j in range(len(ids) - n, len(ids))]
        assert got == pytest.approx(r.logprobs, abs=0.1)
