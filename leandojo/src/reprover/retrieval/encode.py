"""Batched embedding of many strings (the whole premise corpus, or every state of a split)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from reprover.retrieval.model import PremiseRetriever


def tokenize(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_len: int) -> dict[str, torch.Tensor]:
    """Pad to the longest text, truncate at ``max_len`` tokens (ByT5: UTF-8 bytes + EOS)."""
    enc = tokenizer(list(texts), padding="longest", max_length=max_len, truncation=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


@torch.no_grad()
def embed_texts(model: PremiseRetriever, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                max_len: int, batch_size: int = 64, device: torch.device | str = "cpu") -> np.ndarray:
    """Unit-norm embeddings [len(texts), H] as float32, rows in the order of ``texts``.

    Texts are batched by length (longest first) so padding is small; the order is restored at the end.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), model.embedding_size), dtype=np.float32)
    try:
        for lo in range(0, len(order), batch_size):
            idx = order[lo:lo + batch_size]
            batch = tokenize(tokenizer, [texts[i] for i in idx], max_len)
            emb = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))
            out[idx] = emb.float().cpu().numpy()
    finally:
        model.train(was_training)
    return out
