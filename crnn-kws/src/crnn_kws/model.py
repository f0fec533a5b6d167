"""The CRNN of Arik et al. 2017 (Fig. 1): PCEN features -> one 2-D convolution -> R recurrent layers ->
a dense layer over the whole flattened recurrent output -> softmax.

With the paper's Table 1 values and "same" padding this is 229,474 parameters with PyTorch's two GRU biases
(spec §9 lists the parts; a test asserts the total). ``forward`` returns logits; ``infer`` returns the
keyword posterior. Streaming forms live in ``streaming.py`` and share these modules' weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from crnn_kws.config import FeatureConfig, KwsConfig, ModelConfig


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding (before, after): the output has ceil(size / stride) steps."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_output_steps(n: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-n // stride)
    if n < kernel:
        raise ValueError(f"model: 'valid' padding needs at least kernel={kernel} steps, got {n}")
    return (n - kernel) // stride + 1


class ConvFrontEnd(nn.Module):
    """Conv2d over (time, frequency) + ReLU; [B, n_mels, T] features -> [B, T', C * F'] recurrent input."""

    def __init__(self, cfg: ModelConfig, n_mels: int, n_frames: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.conv = nn.Conv2d(1, cfg.n_filters, (cfg.kernel_t, cfg.kernel_f), (cfg.stride_t, cfg.stride_f))
        if cfg.padding == "same":
            pad_t, pad_f = same_padding(n_frames, cfg.kernel_t, cfg.stride_t), same_padding(n_mels, cfg.kernel_f,
                                                                                            cfg.stride_f)
        else:
            pad_t, pad_f = (0, 0), (0, 0)
        self.pad = (*pad_f, *pad_t)  # F.pad order: last dim (freq) first
        self.out_steps = conv_output_steps(n_frames, cfg.kernel_t, cfg.stride_t, cfg.padding)
        self.out_freq = conv_output_steps(n_mels, cfg.kernel_f, cfg.stride_f, cfg.padding)

    @property
    def features_per_step(self) -> int:
        return self.cfg.n_filters * self.out_freq

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2).unsqueeze(1)  # [B, 1, T, n_mels]
        y = F.relu(self.conv(F.pad(x, self.pad)))  # [B, C, T', F']
        return y.permute(0, 2, 1, 3).flatten(2)  # [B, T', C * F']


class Recurrent(nn.Module):
    """R stacked GRU (or LSTM) layers; bidirectional outputs are concatenated (2 * N_R per step)."""

    def __init__(self, cfg: ModelConfig, input_size: int) -> None:
        super().__init__()
        cell = nn.GRU if cfg.rnn == "gru" else nn.LSTM
        self.rnn = cell(input_size, cfg.rnn_units, num_layers=cfg.rnn_layers, batch_first=True,
                        bidirectional=cfg.bidirectional)
        self.out_size = cfg.rnn_units * (2 if cfg.bidirectional else 1)

    def forward(self, x: torch.Tensor, state=None):
        return self.rnn(x, state)  # ([B, T', out_size], final state)


class Classifier(nn.Module):
    """Dense N_F + ReLU over the flattened [T' x out] recurrent sequence, then the class logits."""

    def __init__(self, cfg: ModelConfig, steps: int, step_size: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(cfg.dropout)
        self.dense = nn.Linear(steps * step_size, cfg.dense_units)
        self.out = nn.Linear(cfg.dense_units, cfg.n_classes)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.dense(self.dropout(seq.flatten(1))))  # [B, N_F]
        return self.out(h)  # [B, n_classes]


class CRNN(nn.Module):
    """Features [B, n_mels, n_frames] -> logits [B, n_classes]; class 1 is the keyword when n_classes = 2."""

    def __init__(self, model: ModelConfig, features: FeatureConfig) -> None:
        super().__init__()
        self.n_mels, self.n_frames = features.n_mels, features.n_frames
        self.front = ConvFrontEnd(model, features.n_mels, features.n_frames)
        self.recurrent = Recurrent(model, self.front.features_per_step)
        self.classifier = Classifier(model, self.front.out_steps, self.recurrent.out_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 3 or tuple(features.shape[1:]) != (self.n_mels, self.n_frames):
            raise ValueError(f"CRNN: expected features [B, {self.n_mels}, {self.n_frames}], "
                             f"got {tuple(features.shape)}")
        seq, _ = self.recurrent(self.front(features))
        return self.classifier(seq)

    @torch.no_grad()
    def infer(self, features: torch.Tensor) -> torch.Tensor:
        """Keyword posterior p = softmax(logits)[:, 1], [B] (binary models only)."""
        return torch.softmax(self(features).float(), dim=-1)[:, 1]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_model(config: KwsConfig | str | os.PathLike) -> CRNN:
    """The CRNN of ``config``: a :class:`KwsConfig` or the path of a JSON config file."""
    if isinstance(config, str | os.PathLike | Path):
        from ninerepro.train import load_config

        config = load_config(KwsConfig, config)
    return CRNN(config.model, config.features)
