"""The transformer behind the retriever and the generator: ByT5-small by default, or any HF model.

ReProver fine-tunes ``google/byt5-small`` for both parts (paper Sec. 5, App. C.1): a byte-level T5, chosen
because Lean text is full of Unicode symbols. ``ArchConfig`` describes the architecture with ByT5-small's
values as defaults, so a config can build the same network *randomly initialised* without any download
(tests and the CPU demo use a tiny variant), or name a pretrained HF checkpoint in ``pretrained`` for the
real recipe. The byte tokenizer needs no files, so it is always constructed directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from transformers import PreTrainedTokenizerBase, T5Config


@dataclass
class ArchConfig:
    """Transformer shape. Defaults = google/byt5-small (t5x ``byt5/small.gin``; HF config.json)."""

    pretrained: str | None = None
    """HF model id or folder to start from (official recipe: "google/byt5-small"); None = random init from
    the fields below, no download. Any HF encoder (retriever) or encoder-decoder (generator) works here."""
    d_model: int = 1472
    """hidden size (ByT5-small 1472; the retriever's embedding size)"""
    d_ff: int = 3584
    """gated-GELU feed-forward width"""
    d_kv: int = 64
    """per-head key/value size"""
    num_heads: int = 6
    num_layers: int = 12
    """encoder layers (ByT5 puts 3x as many layers in the encoder as in the decoder)"""
    num_decoder_layers: int = 4
    dropout_rate: float = 0.1
    """HF T5 default; the t5x pretraining used 0.0, fine-tuning in ReProver keeps HF's 0.1"""
    feed_forward_proj: Literal["gated-gelu", "relu", "gated-relu"] = "gated-gelu"
    vocab_size: int = 384
    """256 bytes + 3 specials, padded to a multiple of 128"""

    def __post_init__(self) -> None:
        for name in ("d_model", "d_ff", "d_kv", "num_heads", "num_layers", "num_decoder_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.arch.{name} must be >= 1, got {getattr(self, name)}")
        if self.vocab_size < 259:
            raise ValueError(f"model.arch.vocab_size must be >= 259 for byte-level input, got {self.vocab_size}")

    def t5_config(self) -> T5Config:
        """The HF config for a randomly initialised model of this shape."""
        return T5Config(
            vocab_size=self.vocab_size, d_model=self.d_model, d_ff=self.d_ff, d_kv=self.d_kv,
            num_heads=self.num_heads, num_layers=self.num_layers, num_decoder_layers=self.num_decoder_layers,
            dropout_rate=self.dropout_rate, feed_forward_proj=self.feed_forward_proj,
            tie_word_embeddings=False, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        )


def build_tokenizer(arch: ArchConfig) -> PreTrainedTokenizerBase:
    """ByT5's byte tokenizer (no files needed), or the pretrained model's own tokenizer."""
    if arch.pretrained is None:
        from transformers import ByT5Tokenizer

        return ByT5Tokenizer()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(arch.pretrained)
