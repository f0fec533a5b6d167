"""Deep Speech 1 and Deep Speech 2 acoustic models: features in, per-frame character log-probabilities out.

Both take padded features [B, F, T] with their true lengths and return (log_probs [B, T', C], lengths [B]).
``forward`` returns exactly what ``torch.nn.CTCLoss`` needs; decoding lives in decode.py.
"""

from __future__ import annotations

import torch
from torch import nn

from deepspeech.config import CONV_VARIANTS, DeepSpeechConfig, ModelConfig
from deepspeech.layers import (
    BatchRNN,
    ConvBlock,
    MaskedBatchNorm,
    RowConv,
    SharedInputBiRNN,
    clipped_relu,
    time_mask,
)


def mask_features(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero the frames of [B, F, T] past each length, so padding content can never matter."""
    return x * time_mask(lengths, x.shape[-1]).unsqueeze(1).to(x.dtype)


class DeepSpeech1(nn.Module):
    """DS1 (Hannun et al. 2014, §2): three clipped-ReLU dense layers, one shared-input bidirectional RNN
    whose directions are summed, one clipped-ReLU dense layer, and a linear layer into the softmax.

    Input: context-stacked spectrogram frames [B, (2C+1) F, T]. Dropout acts on the feed-forward layers only.
    """

    def __init__(self, n_input: int, n_classes: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.clip = cfg.clip
        self.h1 = nn.Linear(n_input, cfg.hidden)
        self.h2 = nn.Linear(cfg.hidden, cfg.hidden)
        self.h3 = nn.Linear(cfg.hidden, cfg.hidden)
        self.h4 = SharedInputBiRNN(cfg.hidden, cfg.hidden, cfg.clip)
        self.h5 = nn.Linear(cfg.hidden, cfg.hidden)
        self.out = nn.Linear(cfg.hidden, n_classes)
        self.dropout = nn.Dropout(cfg.dropout)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = mask_features(x, lengths).transpose(1, 2)  # [B, T, (2C+1) F]
        for layer in (self.h1, self.h2, self.h3):
            h = self.dropout(clipped_relu(layer(h), self.clip))
        h = self.h4(h, lengths)  # [B, T, H] = h^f + h^b
        h = self.dropout(clipped_relu(self.h5(h), self.clip))
        return torch.log_softmax(self.out(h).float(), dim=-1), lengths


class ConvStack(nn.Module):
    """DS2's 1-3 convolution layers (Table 4 variants); flattens (channels x freq) into the RNN input."""

    def __init__(self, n_bins: int, variant: str, clip: float, channels: list[int] | None = None) -> None:
        super().__init__()
        spec = CONV_VARIANTS[variant]
        if channels:
            spec = [(c, kernel, stride) for c, (_, kernel, stride) in zip(channels, spec)]
        self.is_2d = spec[0][1][0] > 0
        blocks, in_ch, freq = [], 1 if self.is_2d else n_bins, n_bins
        for channels, kernel, stride in spec:
            blocks.append(ConvBlock(in_ch, channels, kernel, stride, clip))
            if self.is_2d:
                freq = (freq + 2 * (kernel[0] // 2) - kernel[0]) // stride[0] + 1
            in_ch = channels
        self.blocks = nn.ModuleList(blocks)
        self.out_features = in_ch * freq if self.is_2d else in_ch

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            lengths = block.out_lengths(lengths)
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.unsqueeze(1) if self.is_2d else x  # [B, 1, F, T] or [B, F, T]
        for block in self.blocks:
            h, lengths = block(h, lengths)
        if self.is_2d:
            h = h.flatten(1, 2)  # [B, C * F', T']
        return h.transpose(1, 2), lengths  # [B, T', D]


class DeepSpeech2(nn.Module):
    """DS2 (Amodei et al. 2016, §3): conv stack, 1-7 recurrent layers with sequence-wise batch norm,
    row convolution when unidirectional, then batch norm (+ optional clipped-ReLU dense) and the output layer.
    """

    def __init__(self, n_bins: int, n_classes: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.clip = cfg.clip
        self.conv = ConvStack(n_bins, cfg.conv, cfg.clip, cfg.conv_channels)
        sizes = [self.conv.out_features] + [cfg.hidden] * (cfg.n_layers - 1)
        # the first RNN sees conv outputs that were just batch-normalised, so it skips BN (as dsp does)
        self.rnns = nn.ModuleList(
            BatchRNN(size, cfg.hidden, cfg.rnn_type, cfg.bidirectional, batch_norm=i > 0)
            for i, size in enumerate(sizes)
        )
        self.lookahead = None if cfg.bidirectional else RowConv(cfg.hidden, cfg.lookahead, cfg.clip)
        self.head_bn = MaskedBatchNorm(cfg.hidden)
        self.fc = nn.Linear(cfg.hidden, cfg.fc_hidden) if cfg.fc_hidden else None
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.fc_hidden or cfg.hidden, n_classes, bias=False)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return self.conv.output_lengths(lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, lengths = self.conv(mask_features(x, lengths), lengths)  # [B, T', D]
        for rnn in self.rnns:
            h = rnn(self.dropout(h), lengths)  # [B, T', H]
        if self.lookahead is not None:
            h = self.lookahead(h, lengths)
        h = self.head_bn(h.transpose(1, 2), lengths).transpose(1, 2)  # BN over [B, H, T']
        if self.fc is not None:
            h = self.dropout(clipped_relu(self.fc(h), self.clip))
        return torch.log_softmax(self.out(h).float(), dim=-1), lengths  # [B, T', C] in fp32 for CTC


def build_model(cfg: DeepSpeechConfig, n_classes: int) -> nn.Module:
    """The model named by ``cfg.model.arch``, sized for ``cfg.features``."""
    if cfg.model.arch == "ds1":
        n_input = (2 * cfg.features.context + 1) * cfg.features.n_bins
        return DeepSpeech1(n_input, n_classes, cfg.model)
    return DeepSpeech2(cfg.features.n_bins, n_classes, cfg.model)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
