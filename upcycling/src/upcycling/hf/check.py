"""The equivalence check users expect after upcycling: dense vs MoE logits on the same tokens.

Both folders are loaded with plain ``AutoModelForCausalLM.from_pretrained`` (no custom code), in fp32 on
CPU unless told otherwise, and run on the same random tokens. For coarse topK-then-softmax (and granular
with ``--glu-scaling exact``) the difference is float rounding; for softmax-then-topK it measures how far
the upcycled model starts from the dense one.
"""

from __future__ import annotations

import os

import torch


def compare_logits(dense_dir: str | os.PathLike, moe_dir: str | os.PathLike, *, batch: int = 2, seq_len: int = 16,
                   seed: int = 0, dtype: torch.dtype = torch.float32, device: str = "cpu") -> dict[str, float]:
    """Max-abs and relative (Frobenius) logits difference, and top-1 agreement, MoE vs dense."""
    from transformers import AutoModelForCausalLM

    dense = AutoModelForCausalLM.from_pretrained(dense_dir, dtype=dtype).to(device).eval()
    moe = AutoModelForCausalLM.from_pretrained(moe_dir, dtype=dtype).to(device).eval()
    vocab = dense.config.vocab_size
    tokens = torch.randint(0, vocab, (batch, seq_len), generator=torch.Generator().manual_seed(seed)).to(device)
    with torch.no_grad():
        ref = dense(tokens).logits.float()
        out = moe(tokens).logits.float()
    diff = out - ref
    return {"max_abs": diff.abs().max().item(), "rel": (diff.norm() / ref.norm()).item(),
            "top1_agree": (out.argmax(-1) == ref.argmax(-1)).float().mean().item()}
