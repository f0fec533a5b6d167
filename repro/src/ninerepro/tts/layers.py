"""Linear and 1-D conv layers with Xavier-uniform init, named so NVIDIA Tacotron 2 weights load unchanged.

The official code wraps every ``nn.Linear`` / ``nn.Conv1d`` in a module whose only child is called
``linear_layer`` / ``conv``, so its state-dict keys read ``...query_layer.linear_layer.weight``. Keeping those
attribute names means an official checkpoint (Tacotron 2, Mellotron) is a plain ``load_state_dict`` here, with
no key map to get wrong. The init gain follows the activation the layer feeds, as in the paper's code.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class XavierLinear(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, gain: str = "linear"):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class XavierConv1d(nn.Module):
    """``Conv1d`` with "same" padding for odd kernels (the only kind these models use)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, bias: bool = True,
                 gain: str = "linear", padding: int | None = None):
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}")
            padding = (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


def length_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """[B, T] bool, True at valid positions (t < length)."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
