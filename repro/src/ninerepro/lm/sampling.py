"""Next-token choice from logits: greedy, or temperature + top-k + nucleus (top-p) sampling, one RNG per row.

Why a generator per row: ``torch.multinomial`` on a batch draws from one global stream, so sample i's tokens
would depend on which other prompts share its batch. With one ``torch.Generator`` per row, seeded from the
request, a row's draws depend only on its own seed and its own logits.
"""

from __future__ import annotations

import torch

from ninerepro.lm.types import Sampling


def filter_logits(logits: torch.Tensor, sampling: Sampling) -> torch.Tensor:
    """Logits [B, V] / temperature, with tokens outside top-k or outside the top-p nucleus set to -inf.

    Nucleus rule (as Megatron and HF): sort descending, drop every token whose cumulative probability *before*
    it already exceeds ``top_p``, so the most likely token always survives."""
    x = logits / sampling.temperature
    if sampling.top_k > 0:
        k = min(sampling.top_k, x.shape[-1])
        kth = torch.topk(x, k, dim=-1).values[..., -1:]  # [B, 1]
        x = x.masked_fill(x < kth, float("-inf"))
    if sampling.top_p < 1.0:
        sorted_x, order = torch.sort(x, dim=-1, descending=True)  # [B, V]
        cum = torch.softmax(sorted_x, dim=-1).cumsum(dim=-1)
        remove = (cum - torch.softmax(sorted_x, dim=-1)) > sampling.top_p  # mass before this token
        sorted_x = sorted_x.masked_fill(remove, float("-inf"))
        x = torch.full_like(x, float("-inf")).scatter(-1, order, sorted_x)
    return x


def next_tokens(logits: torch.Tensor, sampling: Sampling, generators: list[torch.Generator] | None) -> torch.Tensor:
    """Token ids [B] chosen from ``logits`` [B, V] (float32 recommended)."""
    if sampling.greedy:
        return logits.argmax(dim=-1)
    if generators is None or len(generators) != logits.shape[0]:
        raise ValueError("sampling needs one torch.Generator per row")
    probs = torch.softmax(filter_logits(logits.float(), sampling), dim=-1)
    # multinomial on CPU with a CPU generator: the draw is the same on every device for a given distribution
    probs = probs.cpu()
    return torch.stack([torch.multinomial(p, 1, generator=g)[0] for p, g in zip(probs, generators)]).to(logits.device)


def row_generators(seeds: list[int]) -> list[torch.Generator]:
    return [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
