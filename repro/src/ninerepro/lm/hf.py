"""Hugging Face transformers backend: batched generation with our own decode loop over the model's KV cache.

Why not ``model.generate``: it samples a whole batch from one RNG stream (so a sample depends on its batch
mates), and it has no notion of prompts that share a long prefix. CGAP sends k prompts per question that share
everything but the last few lines (the 10 demonstrations), so this loop

1. tokenises the batch and prefills the longest common token prefix once, then copies its cache to every row;
2. feeds each row's remaining tokens left-padded (attention mask zero on padding, positions counted without it);
3. decodes token by token, one ``torch.Generator`` per row, dropping finished rows from the cache.

Steps 1–2 give the same logits as one left-padded forward (up to float rounding); a test checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from ninerepro.lm.backend import check_seeds
from ninerepro.lm.sampling import next_tokens, row_generators
from ninerepro.lm.types import Generation, LMError, Sampling, cut_at_stop

log = logging.getLogger(__name__)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LMError(f"--device {device} asked for CUDA but no GPU is visible; use --device cpu")
    return torch.device(device)


def _locate(path: str | Path | None) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for a model folder, a .gguf file, or None = the embedded SmolLM2."""
    if path is None:
        from ninerepro.lm.embedded import smollm2_gguf

        gguf = smollm2_gguf()
        return gguf.parent, gguf.name
    p = Path(path)
    if p.is_file() and p.suffix == ".gguf":
        return p.parent, p.name
    if p.is_dir() and (p / "config.json").is_file():
        return p, None
    raise LMError(f"{p} is not a model: pass a folder holding config.json (a transformers checkpoint) or a .gguf file")


class HFBackend:
    """Generation with a local causal LM; ``batch_size`` prompts per forward pass."""

    name = "hf"

    def __init__(self, model, tokenizer, device: torch.device, batch_size: int = 8, min_shared_prefix: int = 16):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.tokenizer, self.device = model.eval(), tokenizer, device
        self.batch_size, self.min_shared_prefix = batch_size, min_shared_prefix
        ids = model.generation_config.eos_token_id if model.generation_config is not None else None
        ids = ids if isinstance(ids, list) else [ids]
        self.eos_ids = {int(i) for i in [*ids, tokenizer.eos_token_id] if i is not None}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_ids or {0})

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto", dtype: str = "auto",
             batch_size: int = 8) -> HFBackend:
        """Open a model folder or GGUF file (GGUF weights are dequantised to ``dtype`` by transformers)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dev = resolve_device(device)
        if dtype == "auto":
            dtype = "bfloat16" if dev.type == "cuda" else "float32"
        if dtype not in DTYPES:
            raise LMError(f"unknown dtype {dtype!r}; choose one of {['auto', *DTYPES]}")
        folder, gguf = _locate(path)
        kwargs = {"gguf_file": gguf} if gguf else {}
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=DTYPES[dtype], **kwargs)
        except (OSError, ValueError, KeyError) as e:
            where = folder / gguf if gguf else folder
            raise LMError(f"{where} could not be loaded as a causal LM ({type(e).__name__}: {e}); "
                          f"pass a transformers model folder or a .gguf file") from None
        return cls(model.to(dev), tokenizer, dev, batch_size=batch_size)

    def generate(self, prompts: Sequence[str], sampling: Sampling,
                 seeds: Sequence[int] | None = None) -> list[Generation]:
        seeds = check_seeds(prompts, seeds)
        ids = self.encode(list(prompts))
        out: list[Generation] = []
        for lo, hi in self.batches(ids):
            out += self._generate_batch(ids[lo:hi], sampling, seeds[lo:hi])
        return out

    def batches(self, ids: list[list[int]]) -> list[tuple[int, int]]:
        """Split consecutive prompts into batches of at most ``batch_size`` that share a long token prefix.

        A run of prompts with the same first ``min_shared_prefix`` tokens (one question's k samples, or its k
        stage-2 prompts with the same demonstrations) stays together so its prefix is prefilled once; prompts
        that share nothing are batched by plain left padding."""
        n = self.min_shared_prefix
        runs, lo = [], 0  # maximal runs of prompts whose first n tokens are equal
        for i in range(1, len(ids) + 1):
            if i == len(ids) or len(ids[i]) <= n or ids[i][:n] != ids[lo][:n]:
                runs.append((lo, i))
                lo = i
        spans: list[tuple[int, int, bool]] = []
        for a, b in runs:
            single = b - a == 1
            if single and spans and spans[-1][2] and spans[-1][1] - spans[-1][0] < self.batch_size:
                spans[-1] = (spans[-1][0], b, True)  # pack unrelated single prompts together
                continue
            spans += [(x, min(x + self.batch_size, b), single) for x in range(a, b, self.batch_size)]
        return [(a, b) for a, b, _ in spans]

    # ---- one batch ----------------------------------------------------------------------------------------------
    def encode(self, prompts: list[str]) -> list[list[int]]:
        ids = [self.tokenizer(p)["input_ids"] for p in prompts]
        if any(len(x) == 0 for x in ids):
            raise ValueError("an empty prompt has no token to condition on; pass non-empty prompts")
        return ids

    @torch.inference_mode()
    def prefill(self, ids: list[list[int]]) -> tuple[torch.Tensor, object, torch.Tensor, torch.Tensor]:
        """Run the prompts; returns (last logits [B, V], cache, attention mask [B, T], next positions [B])."""
        B = len(ids)
        shared = _common_prefix_len(ids) if B > 1 else 0
        shared = min(shared, min(len(x) for x in ids) - 1)  # every row keeps >= 1 token for its own logits
        if shared < self.min_shared_prefix:
            shared = 0
        cache, prefix_mask = None, torch.ones(B, shared, dtype=torch.long, device=self.device)
        if shared:
            prefix = torch.tensor([ids[0][:shared]], device=self.device)  # [1, P]
            cache = self.model(input_ids=prefix, use_cache=True).cache
            cache.batch_repeat_interleave(B)
        tails = [x[shared:] for x in ids]
        S = max(len(t) for t in tails)
        input_ids = torch.full((B, S), self.pad_id, dtype=torch.long, device=self.device)
        tail_mask = torch.zeros(B, S, dtype=torch.long, device=self.device)
        for i, t in enumerate(tails):  # left padding: the last column is every row's last prompt token
            input_ids[i, S - len(t):] = torch.tensor(t, device=self.device)
            tail_mask[i, S - len(t):] = 1
        positions = (shared + tail_mask.cumsum(-1) - 1).clamp(min=0)  # [B, S]
        mask = torch.cat([prefix_mask, tail_mask], dim=1)  # [B, P + S]
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                         cache=cache, use_cache=True)
        return out.logits[:, -1, :].float(), out.cache, mask, positions[:, -1] + 1

    @torch.inference_mode()
    def _generate_batch(self, ids: list[list[int]], sampling: Sampling, seeds: list[int]) -> list[Generation]:
        logits, cache, mask, pos = self.prefill(ids)
        gens = None if sampling.greedy else row_generators(seeds)
        new_ids: list[list[int]] = [[] for _ in ids]
        results = [Generation(text="") for _ in ids]
        active = list(range(len(ids)))  # rows still decoding, in cache order
        for step in range(sampling.max_new_tokens):
            logp = torch.log_softmax(logits, dim=-1)
            chosen = next_tokens(logits, sampling, None if gens is None else [gens[r] for r in active])
            keep = []
            for j, r in enumerate(active):
                tok = int(chosen[j])
                if tok in self.eos_ids:
                    results[r].finish_reason = "stop"
                    continue
                new_ids[r].append(tok)
                if self._append(results[r], new_ids[r], float(logp[j, tok]), sampling):
                    keep.append(j)
            if not keep or step == sampling.max_new_tokens - 1:
                break
            if len(keep) < len(active):
                idx = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(idx)
                mask, pos, chosen = mask[idx], pos[idx], chosen[idx]
                active = [active[j] for j in keep]
            mask = torch.cat([mask, torch.ones(len(active), 1, dtype=mask.dtype, device=self.device)], dim=1)
            out = self.model(input_ids=chosen[:, None], attention_mask=mask, position_ids=pos[:, None],
                             cache=cache, use_cache=True)
            logits, cache, pos = out.logits[:, -1, :].float(), out.cache, pos + 1
        return results

    def _append(self, gen: Generation, ids: list[int], logprob: float, sampling: Sampling) -> bool:
        """Add one token to ``gen``; False once a stop string or ``stop_when`` ends it."""
        full = self.tokenizer.decode(ids, skip_special_tokens=False)
        seen = sum(len(t) for t in gen.tokens)
        gen.tokens.append(full[seen:])
        gen.logprobs.append(logprob)
        text, stopped = cut_at_stop(full, sampling.stop)
        gen.text = text
        if stopped or (sampling.stop_when is not None and sampling.stop_when(text)):
            gen.finish_reason = "stop"
            return False
        return True


def _common_prefix_len(ids: list[list[int]]) -> int:
    first, n = ids[0], min(len(x) for x in ids)
    for j in range(n):
        if any(x[j] != first[j] for x in ids[1:]):
            return j
    return n
