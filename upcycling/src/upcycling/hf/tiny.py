"""Tiny random dense Hugging Face checkpoints (Llama, Mistral, Qwen2, Qwen3) with a real tokenizer, for tests/demos.

They are saved with ``save_pretrained(safe_serialization=True)`` and a small ``max_shard_size`` so that
the converter sees the same sharded on-disk layout as a real multi-gigabyte checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

TINY = dict(vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64)


def make_tiny_dense(folder: str | os.PathLike, family: str = "llama", *, max_shard_size: str = "60KB",
                    seed: int = 0, tokenizer: bool = True, **overrides) -> torch.nn.Module:
    """Write a random ``family`` model to ``folder``; returns it in eval mode (fp32)."""
    import transformers as tf

    classes = {"llama": (tf.LlamaConfig, tf.LlamaForCausalLM), "mistral": (tf.MistralConfig, tf.MistralForCausalLM),
               "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM), "qwen3": (tf.Qwen3Config, tf.Qwen3ForCausalLM)}
    if family not in classes:
        raise ValueError(f"unknown tiny family {family!r}; choose one of {', '.join(classes)}")
    config_cls, model_cls = classes[family]
    torch.manual_seed(seed)
    model = model_cls(config_cls(**{**TINY, **overrides})).eval()
    with torch.no_grad():  # random biases and norm gains, so a mapping that drops them cannot pass a test
        for name, p in model.named_parameters():
            if name.endswith(".bias") or "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    model.save_pretrained(folder, safe_serialization=True, max_shard_size=max_shard_size)
    if tokenizer:
        tiny_tokenizer(model.config.vocab_size).save_pretrained(folder)
    return model


def tiny_tokenizer(vocab_size: int):
    """A byte-level-ish word-piece-free tokenizer: one token per printable ASCII character."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = [chr(c) for c in range(32, 127)][: vocab_size - 1]
    vocab = {"<unk>": 0, **{c: i + 1 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")


def save_dir_size(folder: str | os.PathLike) -> int:
    """Bytes of the safetensors files in ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))
