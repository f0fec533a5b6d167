"""Cross-entropy on the window labels (paper §2.2: not CTC, which it judged too costly for tiny models)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def window_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean cross-entropy in fp32, accuracy of the argmax) for logits [B, C] and labels [B]."""
    loss = F.cross_entropy(logits.float(), labels)
    accuracy = (logits.argmax(dim=-1) == labels).float().mean()
    return loss, accuracy
