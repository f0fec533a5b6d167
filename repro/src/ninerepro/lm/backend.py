"""The one interface a pipeline calls, and the factory that picks a backend by name.

A backend turns prompts into :class:`~ninerepro.lm.types.Generation` objects, one per prompt, in order. Batching,
padding, prefix sharing and retries are the backend's business; the caller only promises that ``seeds`` (one
per prompt) fully determine sampled output for a given model, whatever the batch composition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ninerepro.lm.types import Generation, Sampling

BACKENDS = ("hf", "vllm", "openai")


@runtime_checkable
class LMBackend(Protocol):
    name: str

    def generate(self, prompts: Sequence[str], sampling: Sampling,
                 seeds: Sequence[int] | None = None) -> list[Generation]:
        """One generation per prompt; ``seeds[i]`` seeds prompt i's sampling (ignored when greedy)."""
        ...


def check_seeds(prompts: Sequence[str], seeds: Sequence[int] | None) -> list[int]:
    """Seeds as a list matching ``prompts`` (zeros when absent); a length mismatch is a caller bug."""
    if seeds is None:
        return [0] * len(prompts)
    if len(seeds) != len(prompts):
        raise ValueError(f"got {len(seeds)} seeds for {len(prompts)} prompts; pass one seed per prompt")
    return [int(s) for s in seeds]


def build_backend(kind: str, model: str | None = None, **options) -> LMBackend:
    """``hf`` (local folder or GGUF file; None = the embedded SmolLM2), ``vllm`` (in-process) or ``openai``
    (``options['base_url']`` of an OpenAI-compatible server, ``model`` = the served model name)."""
    if kind == "hf":
        from ninerepro.lm.hf import HFBackend

        return HFBackend.load(model, **options)
    if kind == "vllm":
        from ninerepro.lm.vllm_backend import VLLMBackend

        if not model:
            raise ValueError("--backend vllm needs --model (a model folder or hub name vLLM can open)")
        return VLLMBackend(model, **options)
    if kind == "openai":
        from ninerepro.lm.openai_http import OpenAIBackend

        if not model:
            raise ValueError("--backend openai needs --model (the name the server serves)")
        return OpenAIBackend(model=model, **options)
    raise ValueError(f"unknown backend {kind!r}; choose one of {list(BACKENDS)}")
