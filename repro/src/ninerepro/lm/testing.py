"""A tiny randomly initialised Llama with a character tokenizer, for tests and the benchmarks' tiny mode.

Real checkpoints are 100 MB+ and slow to load; the batching, caching and seeding logic of the HF backend is
the same for a 2-layer, 32-wide model, which builds in well under a second and needs no file from anywhere.
"""

from __future__ import annotations

import string
from pathlib import Path

CHARS = string.printable  # 100 characters: every prompt in the tests is plain ASCII


def tiny_tokenizer():
    """A character-level ``PreTrainedTokenizerFast`` (ids 0-2 = pad/bos/eos, then one per printable char)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, **{c: i + 3 for i, c in enumerate(CHARS)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="</s>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>")


def tiny_llama(seed: int = 0, layers: int = 2, hidden: int = 32):
    """(model, tokenizer): a random LlamaForCausalLM over :func:`tiny_tokenizer`'s vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer()
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      pad_token_id=0, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg).eval(), tok


def tiny_backend(batch_size: int = 8, seed: int = 0, device: str = "cpu"):
    """An :class:`~ninerepro.lm.hf.HFBackend` over :func:`tiny_llama`; EOS is disabled so lengths are predictable."""
    import torch

    from ninerepro.lm.hf import HFBackend

    model, tok = tiny_llama(seed)
    backend = HFBackend(model.to(device), tok, torch.device(device), batch_size=batch_size)
    backend.eos_ids = set()
    return backend


def save_tiny(path: str | Path, seed: int = 0) -> Path:
    """Write the tiny model + tokenizer as a transformers folder (for load-path tests)."""
    model, tok = tiny_llama(seed)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return Path(path)
