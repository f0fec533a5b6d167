"""In-process vLLM (``vllm.LLM``): the fast path on a GPU, with prefix caching for shared demonstrations.

vLLM is imported when a backend is built, never at module import, so this file loads (and is tested with a
fake ``vllm`` module) where vLLM cannot be installed. Seeds: ``SamplingParams(seed=...)`` per prompt, so sample
i of a question is reproducible and independent of batch mates; ``n=k`` with one seed would draw the k samples
from one stream instead (vLLM issue #7808), which is why we send k prompts with k seeds. Prefix caching
(``enable_prefix_caching=True``) makes the k copies of a prompt, and the 10 shared demonstrations of stage 2,
prefill once.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from ninerepro.lm.backend import check_seeds
from ninerepro.lm.types import Generation, LMError, Sampling, cut_at_stop


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, *, dtype: str = "auto", tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.9, enable_prefix_caching: bool = True, **llm_kwargs):
        try:
            self.vllm = importlib.import_module("vllm")
        except ImportError as e:
            raise LMError(f"--backend vllm needs the vllm package ({e}); install it on a CUDA machine "
                          f"(`pip install vllm`) or use --backend hf") from None
        self.llm = self.vllm.LLM(model=model, dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                                 gpu_memory_utilization=gpu_memory_utilization,
                                 enable_prefix_caching=enable_prefix_caching, **llm_kwargs)

    def params(self, sampling: Sampling, seed: int):
        """vLLM's SamplingParams: greedy = temperature 0; top_k -1 = off; logprobs=0 returns the chosen token's."""
        return self.vllm.SamplingParams(
            n=1, max_tokens=sampling.max_new_tokens, seed=int(seed), logprobs=0,
            temperature=0.0 if sampling.greedy else sampling.temperature,
            top_p=1.0 if sampling.greedy else sampling.top_p,
            top_k=-1 if sampling.greedy or sampling.top_k == 0 else sampling.top_k,
            stop=list(sampling.stop) or None)

    def generate(self, prompts: Sequence[str], sampling: Sampling,
                 seeds: Sequence[int] | None = None) -> list[Generation]:
        seeds = check_seeds(prompts, seeds)
        outputs = self.llm.generate(list(prompts), [self.params(sampling, s) for s in seeds], use_tqdm=False)
        return [_to_generation(o.outputs[0], sampling) for o in outputs]


def _to_generation(completion, sampling: Sampling) -> Generation:
    """Text, per-token pieces and log-probs of one vLLM CompletionOutput."""
    tokens, logprobs = [], []
    for tok_id, entry in zip(completion.token_ids, completion.logprobs or []):
        info = entry[tok_id]
        tokens.append(info.decoded_token or "")
        logprobs.append(float(info.logprob))
    text, stopped = cut_at_stop(completion.text, sampling.stop)
    finish = "stop" if stopped or completion.finish_reason == "stop" else "length"
    return Generation(text, tokens, logprobs, finish)
