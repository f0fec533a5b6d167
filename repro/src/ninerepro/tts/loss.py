"""The Tacotron 2 loss: MSE of the mel before and after the postnet, plus BCE of the stop gate.

As in the official code, the means run over the padded tensors (padding is zero in both prediction and target
after masking, so it adds no error but counts in the denominator); the gate target is 1 from the last real
frame onward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class Tacotron2Losses:
    total: Tensor
    mel: Tensor
    mel_postnet: Tensor
    gate: Tensor


def gate_targets(output_lengths: Tensor, max_len: int) -> Tensor:
    """[B, T]: 0 before each utterance's last frame, 1 from it on (padding included)."""
    t = torch.arange(max_len, device=output_lengths.device)[None, :]
    return (t >= (output_lengths[:, None] - 1)).float()


def tacotron2_loss(mel: Tensor, mel_postnet: Tensor, gate: Tensor, target_mel: Tensor,
                   target_gate: Tensor) -> Tacotron2Losses:
    mel_loss = F.mse_loss(mel, target_mel)
    post_loss = F.mse_loss(mel_postnet, target_mel)
    gate_loss = F.binary_cross_entropy_with_logits(gate, target_gate)
    return Tacotron2Losses(mel_loss + post_loss + gate_loss, mel_loss, post_loss, gate_loss)


def guided_attention_loss(alignments: Tensor, text_lengths: Tensor, output_lengths: Tensor,
                          sigma: float = 0.2) -> Tensor:
    """Tachibana et al. (2017)'s penalty on attention far from the diagonal: sum over tokens of A[t, n] * W[t, n],
    W = 1 - exp(-(n/N - t/T)^2 / (2 sigma^2)), averaged over each utterance's valid frames. (Summing over tokens
    keeps the term on the scale of one frame's misplaced attention mass, 0..1, whatever the text length; a mean
    over tokens too would shrink it by the text length.)

    Not part of the Tacotron 2 / Mellotron recipes (their weight is 0 by default); it makes attention form in
    hundreds rather than thousands of steps, which CPU-sized demos need.
    """
    T, N = alignments.shape[1:]
    t = torch.arange(T, device=alignments.device)[None, :, None] / output_lengths[:, None, None].clamp(min=1)
    n = torch.arange(N, device=alignments.device)[None, None, :] / text_lengths[:, None, None].clamp(min=1)
    weight = 1.0 - torch.exp(-((n - t) ** 2) / (2 * sigma**2))
    valid = (torch.arange(T, device=alignments.device)[None, :, None] < output_lengths[:, None, None]) & \
        (torch.arange(N, device=alignments.device)[None, None, :] < text_lengths[:, None, None])
    frames = output_lengths.clamp(max=T).sum().clamp(min=1)
    return (alignments * weight * valid).sum() / frames
