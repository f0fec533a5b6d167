"""Building blocks of Deep Speech 1 and 2 that know about padding.

Every block takes a padded batch plus the true lengths and guarantees that padded frames never change a
valid frame's output: batch norm takes its statistics over valid frames only, convolutions re-zero padded
frames after each layer, recurrences run on packed sequences (or, for DS1's shared-input RNN, on
sequences reversed within their own length). So an utterance decodes the same alone and in any batch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from deepspeech.layers_util import reverse_within_length
from deepspeech.rnn_loop import run_rnn_loop


def clipped_relu(x: torch.Tensor, clip: float = 20.0) -> torch.Tensor:
    """g(z) = min(max(z, 0), clip), the non-linearity of DS1 §2 and DS2 §3."""
    return torch.clamp(x, 0.0, clip)


def time_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """[B, T] boolean, True on valid frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class MaskedBatchNorm(nn.Module):
    """Sequence-wise batch norm (DS2 §3.2): statistics over all valid (batch x time) positions.

    Works on channel-second tensors with time last: [B, C, T] or [B, C, F, T]. Padded frames are excluded
    from the mean/variance in training and zeroed in the output, so padding cannot leak into a prediction.
    Running averages are kept like ``nn.BatchNorm1d`` (momentum 0.1, unbiased running variance).
    """

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        shape = [1, -1] + [1] * (x.dim() - 2)  # broadcast per-channel vectors over [B, C, ..., T]
        mask = time_mask(lengths, x.shape[-1]).view(x.shape[0], *([1] * (x.dim() - 2)), x.shape[-1])
        mask = mask.to(x.dtype)
        if self.training:
            dims = [0, *list(range(2, x.dim()))]
            count = (mask.sum() * (x[0, 0].numel() // x.shape[-1])).clamp_min(1.0)
            mean = (x * mask).sum(dims) / count
            var = (((x - mean.view(shape)) * mask) ** 2).sum(dims) / count
            with torch.no_grad():
                unbiased = var * count / (count - 1).clamp_min(1.0)
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
                self.running_var.lerp_(unbiased.detach().to(self.running_var.dtype), self.momentum)
        else:
            mean, var = self.running_mean.to(x.dtype), self.running_var.to(x.dtype)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        return (y * self.weight.view(shape) + self.bias.view(shape)) * mask


class ConvBlock(nn.Module):
    """One DS2 convolution (Table 4): conv, masked BN, clipped ReLU, then padded frames set to zero.

    ``kernel``/``stride`` are (freq, time); a freq kernel of 0 means a 1D convolution over time with the
    frequency bins as input channels.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int], stride: tuple[int, int],
                 clip: float) -> None:
        super().__init__()
        self.is_2d = kernel[0] > 0
        self.kernel_t, self.stride_t, self.pad_t = kernel[1], stride[1], kernel[1] // 2
        self.clip = clip
        if self.is_2d:
            self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel[0] // 2, kernel[1] // 2),
                                  bias=False)
        else:
            self.conv = nn.Conv1d(in_channels, out_channels, kernel[1], stride[1], kernel[1] // 2, bias=False)
        self.bn = MaskedBatchNorm(out_channels)

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return (lengths + 2 * self.pad_t - self.kernel_t) // self.stride_t + 1

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = self.out_lengths(lengths)
        y = self.conv(x)  # [B, C, F', T'] or [B, C, T']
        return clipped_relu(self.bn(y, lengths), self.clip), lengths


class BatchRNN(nn.Module):
    """One DS2 recurrent layer: optional sequence-wise BN on its input, then a packed (cuDNN) RNN.

    Following deepspeech.pytorch, BN normalises the layer input x_t rather than the product W x_t of the
    paper's h_t = f(BN(W x_t) + U h_{t-1}); the two differ by the RNN's (learned) input matrix and keep
    the fused cuDNN kernels usable. Bidirectional outputs are summed (DS1 §2), not concatenated.
    """

    def __init__(self, input_size: int, hidden: int, rnn_type: str, bidirectional: bool, batch_norm: bool) -> None:
        super().__init__()
        self.bn = MaskedBatchNorm(input_size) if batch_norm else None
        self.bidirectional, self.kind = bidirectional, rnn_type
        cls = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[rnn_type]
        kwargs = {"nonlinearity": "relu"} if rnn_type == "rnn" else {}
        self.rnn = cls(input_size, hidden, batch_first=True, bidirectional=bidirectional, **kwargs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.bn is not None:
            x = self.bn(x.transpose(1, 2), lengths).transpose(1, 2)  # BN over [B, D, T]
        if x.is_cuda or not torch.is_grad_enabled():
            y = self.packed(x, lengths)
        else:  # CPU training: same weights, linear-time backward (rnn_loop.py)
            y = run_rnn_loop(self.rnn, self.kind, x, lengths)  # [B, T, H * dirs]
        if self.bidirectional:
            y = y.view(y.shape[0], y.shape[1], 2, -1).sum(2)  # [B, T, H]: directions summed
        return y

    def packed(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The reference path: packed sequences through the fused (cuDNN on GPU) RNN."""
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        y, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # [B, T, H * dirs]
        return y


class RowConv(nn.Module):
    """Lookahead convolution (DS2 §3.7): r_{t,i} = sum_{j=0..tau} W_{i,j} h_{t+j,i}, per feature.

    A depthwise Conv1d with kernel tau + 1 and tau zeros of right padding; frames past an utterance's end
    are zeroed first, so the lookahead of its last frames sees zeros both alone and in a batch.
    """

    def __init__(self, channels: int, lookahead: int, clip: float) -> None:
        super().__init__()
        self.lookahead, self.clip = lookahead, clip
        self.conv = nn.Conv1d(channels, channels, lookahead + 1, groups=channels, bias=False)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = time_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)  # [B, T, 1]
        h = nn.functional.pad((x * mask).transpose(1, 2), (0, self.lookahead))  # [B, H, T + tau]
        return clipped_relu(self.conv(h).transpose(1, 2), self.clip)  # [B, T, H]


class SharedInputBiRNN(nn.Module):
    """DS1's h4 (DS1 §2): both directions share the input projection W4 x_t + b4, each has its own U.

    h^f_t = g(W4 x_t + U^f h^f_{t-1} + b4) forward in time, h^b_t likewise backward, and the layer returns
    h^f + h^b. g is the clipped ReLU, which cuDNN does not offer, so the recurrence is an explicit loop.
    """

    def __init__(self, input_size: int, hidden: int, clip: float) -> None:
        super().__init__()
        self.W = nn.Linear(input_size, hidden)
        self.U_f = nn.Linear(hidden, hidden, bias=False)
        self.U_b = nn.Linear(hidden, hidden, bias=False)
        self.clip = clip

    def _run(self, z: torch.Tensor, U: nn.Linear) -> torch.Tensor:
        h = z.new_zeros(z.shape[0], z.shape[2])
        outputs = []
        for z_t in z.unbind(1):  # unbind, not z[:, t]: its backward is one stack, not T full-size fills
            h = clipped_relu(z_t + U(h), self.clip)
            outputs.append(h)
        return torch.stack(outputs, dim=1)  # [B, T, H]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        z = self.W(x)  # [B, T, H], shared by both directions
        forward = self._run(z, self.U_f)
        backward = reverse_within_length(self._run(reverse_within_length(z, lengths), self.U_b), lengths)
        mask = time_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)
        return (forward + backward) * mask
