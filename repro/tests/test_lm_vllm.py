"""The vLLM backend against a fake ``vllm`` module: the documented LLM/SamplingParams API, per-prompt seeds."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from ninerepro.lm import LMError, Sampling
from ninerepro.lm.vllm_backend import VLLMBackend


@dataclass
class _Logprob:
    logprob: float
    decoded_token: str


def _fake_vllm(calls: list):
    mod = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class LLM:
        def __init__(self, **kw):
            calls.append(("init", kw))

        def generate(self, prompts, params, use_tqdm=True):
            calls.append(("generate", prompts, params))
            outs = []
            for p, sp in zip(prompts, params):
                lps = [{7: _Logprob(-0.5, f"{p}-{sp.seed}")}, {8: _Logprob(-1.0, "\n")}]
                comp = types.SimpleNamespace(text=f"{p}-{sp.seed}\nrest", token_ids=[7, 8], logprobs=lps,
                                             finish_reason="length")
                outs.append(types.SimpleNamespace(outputs=[comp]))
            return outs

    mod.LLM, mod.SamplingParams = LLM, SamplingParams
    return mod


def test_each_prompt_gets_its_own_seeded_params_and_prefix_caching_is_on(monkeypatch):
    calls: list = []
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(calls))
    backend = VLLMBackend("/models/x")
    assert calls[0][1]["enable_prefix_caching"] is True and calls[0][1]["model"] == "/models/x"
    gens = backend.generate(["a", "b"], Sampling(max_new_tokens=100, top_p=0.9, top_k=0), seeds=[1234, 1244])
    _, prompts, params = calls[1]
    assert prompts == ["a", "b"] and [p.seed for p in params] == [1234, 1244]
    assert params[0].top_k == -1 and params[0].top_p == 0.9 and params[0].max_tokens == 100 and params[0].n == 1
    assert gens[1].text == "b-1244\nrest" and gens[1].logprobs == [-0.5, -1.0] and gens[1].tokens[1] == "\n"


def test_greedy_maps_to_temperature_zero(monkeypatch):
    calls: list = []
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(calls))
    VLLMBackend("m").generate(["a"], Sampling(max_new_tokens=10, greedy=True))
    assert calls[1][2][0].temperature == 0.0


def test_without_vllm_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(LMError, match="pip install vllm"):
        VLLMBackend("m")
