"""Tacotron 2 text encoder: 3 x (conv k=5 -> BatchNorm -> ReLU -> dropout 0.5) then a BiLSTM.

Padding. Batches are zero-padded with symbol id 0, which is a real symbol (Tacotron 2's ``_``, Mellotron's and
Flowtron's ``!``) with a trained, non-zero embedding, so a conv near the end of a short utterance sees the pad's
embedding. The two official codes differ here and both are reproduced (``conv_mode``):

* ``"batched"`` (NVIDIA/tacotron2): the convs run over the padded batch, so an utterance's last frames depend
  on how much padding its batch has;
* ``"per_utterance"`` (NVIDIA/mellotron): in training, each utterance's convs run on its own valid frames (the
  official loop, BatchNorm statistics per utterance included); in eval mode the same result comes from one
  batched pass with every layer's input zeroed past each length, which is what a conv over a truncated
  sequence with zero padding computes. Batched inference then equals one utterance at a time (tested).

The BiLSTM always runs on packed sequences, so padding never reaches it.

Normalisation (``norm``): ``"batch"`` is Tacotron 2's and Mellotron's BatchNorm; ``"instance"`` is Flowtron's
masked instance norm (``ninerepro.tts.norm``), whose statistics come from each utterance's valid frames only, so with
it every layer's input is zeroed past each length (the official masking) and a padded batch equals one
utterance at a time in training as in eval mode; ``conv_mode`` does not matter then.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

from ninerepro.tts.layers import XavierConv1d, length_mask
from ninerepro.tts.norm import MaskedInstanceNorm1d

ConvMode = Literal["batched", "per_utterance"]
NormKind = Literal["batch", "instance"]


class TextEncoder(nn.Module):
    def __init__(self, dim: int = 512, n_convs: int = 3, kernel_size: int = 5, dropout: float = 0.5,
                 conv_mode: ConvMode = "batched", norm: NormKind = "batch"):
        super().__init__()
        if norm not in ("batch", "instance"):
            raise ValueError(f"TextEncoder norm must be 'batch' or 'instance', got {norm!r}")
        make_norm = nn.BatchNorm1d if norm == "batch" else MaskedInstanceNorm1d
        self.convolutions = nn.ModuleList(
            nn.Sequential(XavierConv1d(dim, dim, kernel_size, gain="relu"), make_norm(dim))
            for _ in range(n_convs))
        self.norm = norm
        self.lstm = nn.LSTM(dim, dim // 2, 1, batch_first=True, bidirectional=True)
        self.dropout = dropout
        self.conv_mode = conv_mode

    def _conv_stack(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """[B, C, T] -> [B, C, T]; with ``mask`` ([B, 1, T]) every layer's input is zero past each length."""
        for conv, norm in self.convolutions:
            if mask is not None:
                x = x * mask
            h = conv(x)
            h = norm(h, mask) if self.norm == "instance" else norm(h)
            x = F.dropout(F.relu(h), self.dropout, self.training)
        return x if mask is None else x * mask

    def convs(self, x: Tensor, lengths: Tensor) -> Tensor:
        """The conv stack over embedded text [B, C, T] -> [B, T, C], per ``conv_mode``."""
        if self.norm == "instance":
            mask = length_mask(lengths, x.shape[2])[:, None, :].to(x.dtype)
            return self._conv_stack(x, mask)[:, :, : int(lengths.max())].transpose(1, 2)
        if self.conv_mode == "batched" or x.shape[0] == 1:
            return self._conv_stack(x).transpose(1, 2)
        if self.training:  # the official loop: per-utterance BatchNorm statistics can only come from this
            outs = [self._conv_stack(x[b : b + 1, :, : int(n)])[0].transpose(0, 1)
                    for b, n in enumerate(lengths.tolist())]
            return nn.utils.rnn.pad_sequence(outs, batch_first=True)
        mask = length_mask(lengths, x.shape[2])[:, None, :].to(x.dtype)
        return self._conv_stack(x, mask)[:, :, : int(lengths.max())].transpose(1, 2)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Embedded text [B, C, T] and lengths [B] -> encodings [B, max(lengths), C] (zero past each length)."""
        h = self.convs(x, lengths)
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
        self.lstm.flatten_parameters()
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=int(lengths.max()))
        return out

    def inference(self, x: Tensor) -> Tensor:
        """One unpadded utterance [1, C, T] -> [1, T, C] (no packing, as the official ``inference``)."""
        h = self._conv_stack(x).transpose(1, 2)
        self.lstm.flatten_parameters()
        return self.lstm(h)[0]


__all__ = ["ConvMode", "NormKind", "TextEncoder"]
