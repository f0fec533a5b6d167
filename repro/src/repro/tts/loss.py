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
