"""MMLU scorers for the two kinds of checkpoint: ours (.pt, byte or local HF tokenizer) and HF folders."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from upcycling.eval.mmlu import Scorer


class OurScorer(Scorer):
    """One of our checkpoints (dense or MoE, from train.py or ``upcycle upcycle``) with its tokenizer."""

    def __init__(self, checkpoint: str | os.PathLike, tokenizer: str = "byte", device: str = "cpu") -> None:
        from upcycling.checkpoints import read_source
        from upcycling.model import build_model
        from upcycling.prepare import load_tokenizer

        sd, cfg, moe = read_source(checkpoint)
        self.model = build_model(cfg, moe).to(device).eval()
        self.model.load_state_dict(sd, strict=True)
        self._encode, vocab, _, _ = load_tokenizer(tokenizer)
        if vocab > cfg.vocab_size:
            raise ValueError(f"tokenizer {tokenizer!r} has {vocab} tokens but {checkpoint} has model.vocab_size="
                             f"{cfg.vocab_size}; pass the tokenizer the model was trained with (--tokenizer)")
        self.max_len, self.device = cfg.max_seq_len, device

    def encode(self, text: str) -> list[int]:
        return list(self._encode(text))

    @torch.no_grad()
    def logprobs(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.model(tokens.to(self.device)).logits.float(), dim=-1).cpu()


class HFScorer(Scorer):
    """A Hugging Face causal-LM folder (e.g. one written by ``upcycle convert`` or ``save_hf``)."""

    def __init__(self, folder: str | os.PathLike, device: str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
        self.tok = AutoTokenizer.from_pretrained(folder)
        self.max_len = int(getattr(self.model.config, "max_position_embeddings", 2048))
        self.device = device

    def encode(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"]

    @torch.no_grad()
    def logprobs(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.model(tokens.to(self.device)).logits.float(), dim=-1).cpu()


def load_scorer(model: str, tokenizer: str = "byte", device: str = "cpu") -> Scorer:
    """An HF folder (config.json inside) or one of our checkpoint files."""
    p = Path(model)
    if p.is_dir() and (p / "config.json").is_file():
        return HFScorer(p, device)
    return OurScorer(p, tokenizer, device)
