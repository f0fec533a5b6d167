"""With real models: the embedded SmolLM2 through both stages (slow on CPU), and CUDA against CPU (GPU)."""

from __future__ import annotations

import pytest
import torch

from knowledge_dialogue.config import DecodeConfig, RunConfig, Stage1DemoConfig
from knowledge_dialogue.data import read_samples
from knowledge_dialogue.runner import EMBEDDED
from knowledge_dialogue.server import Replier
from ninerepro.lm.embedded import has_minilm, has_smollm2

needs_models = pytest.mark.skipif(not (has_smollm2() and has_minilm()), reason="embedded models not installed")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
TURNS = ["I looked at Saturn through a telescope last night."]


def _replier(device: str, retriever: str = "dense", batch_size: int = 4):
    from ninerepro.lm.hf import HFBackend

    short = DecodeConfig(max_new_tokens=24)  # long greedy runs on two devices may part at a near-tie
    cfg = RunConfig(demos1=Stage1DemoConfig(retriever=retriever), stage1=short, stage2=short, batch_size=batch_size)
    backend = HFBackend.load(None, device=device, dtype="float32", batch_size=batch_size)
    return Replier(backend, "embedded", cfg, read_samples(EMBEDDED / "train.json"), seen=False, device=device)


@pytest.mark.slow
@needs_models
def test_smollm2_generates_one_line_of_knowledge_then_a_reply():
    out = _replier("cpu").reply("Saturn", TURNS)
    assert out["knowledge"] and "\n" not in out["knowledge"] and out["response"] and not out["topic_known"]


@pytest.mark.gpu
@needs_cuda
@needs_models
def test_msdp_reply_on_cuda_equals_cpu_in_fp32():
    assert _replier("cuda").reply("Saturn", TURNS) == _replier("cpu").reply("Saturn", TURNS)


@pytest.mark.gpu
@needs_cuda
def test_tiny_model_batched_stage2_on_cuda_equals_one_prompt_at_a_time():
    """The shared-prefix batched path gives the same greedy text as per-prompt calls on CUDA."""
    from knowledge_dialogue.config import Stage2DemoConfig
    from knowledge_dialogue.demos import select_stage2
    from knowledge_dialogue.prompts import stage2_prompt
    from ninerepro.lm import Sampling
    from ninerepro.lm.testing import tiny_backend

    tests = read_samples(EMBEDDED / "test_seen.json")[:4]
    demos = select_stage2(read_samples(EMBEDDED / "train.json"), Stage2DemoConfig(num_demos=2))
    prompts = [stage2_prompt(t, t.knowledge, demos) for t in tests]
    backend = tiny_backend(batch_size=4, device="cuda")
    g = Sampling(max_new_tokens=12, greedy=True)
    batched = [x.text for x in backend.generate(prompts, g)]
    single = [backend.generate([p], g)[0].text for p in prompts]
    assert batched == single
