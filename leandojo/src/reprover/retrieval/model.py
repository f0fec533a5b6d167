"""The dual encoder: one transformer encoder embeds both proof states and premises (paper Sec. 5).

An embedding is the mean of the encoder's last hidden states over non-padding positions, L2-normalised, so
the similarity of a state and a premise is a dot product that equals their cosine (RP ``_encode``). States
and premises share the encoder (no separate towers, no reranker); premise embeddings are precomputed once
for the whole corpus and searched with :mod:`reprover.retrieval.index`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from reprover.retrieval.arch import ArchConfig


def build_encoder(arch: ArchConfig) -> PreTrainedModel:
    """A randomly initialised T5 encoder of ``arch``'s shape, or a pretrained HF encoder."""
    if arch.pretrained is None:
        from transformers import T5EncoderModel

        return T5EncoderModel(arch.t5_config())
    from transformers import AutoModelForTextEncoding

    return AutoModelForTextEncoding.from_pretrained(arch.pretrained)


def encoder_from_hf_config(config: PretrainedConfig) -> PreTrainedModel:
    """An encoder with the layout of ``config`` and random weights (a checkpoint's weights go in next)."""
    from transformers import AutoModelForTextEncoding

    return AutoModelForTextEncoding.from_config(config)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of ``hidden`` [B, T, H] over positions where ``mask`` [B, T] is 1 -> [B, H]."""
    m = mask.unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


class PremiseRetriever(nn.Module):
    """Maps token ids to unit-norm embeddings; ``forward`` = ``encode`` so DDP wraps the one call."""

    def __init__(self, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.encoder = encoder

    @property
    def embedding_size(self) -> int:
        return int(self.encoder.config.d_model if hasattr(self.encoder.config, "d_model")
                   else self.encoder.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # [B, T, H]
        return F.normalize(mean_pool(hidden, attention_mask).float(), dim=-1)  # [B, H]
