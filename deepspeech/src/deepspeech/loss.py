"""CTC loss over character posteriors, with infeasible utterances removed before they can give inf.

``torch.nn.CTCLoss`` returns +inf when an utterance has fewer output frames than its label needs
(labels plus a blank between repeated characters). ``zero_infinity=True`` would hide that; here such
utterances are taken out of the batch, counted, and logged, and the loss stays finite.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from deepspeech.data import ctc_min_frames

log = logging.getLogger(__name__)


@dataclass
class CTCResult:
    loss: torch.Tensor
    """mean (or sum) over the kept utterances of -ln p(label | audio)"""
    kept: int
    skipped: int


def ctc_loss(log_probs: torch.Tensor, out_lengths: torch.Tensor, targets: list[list[int]],
             reduction: str = "mean_utterance") -> CTCResult:
    """CTC of [B, T, C] log-probabilities (fp32) against per-utterance label lists (blank = 0)."""
    feasible = [ctc_min_frames(t) <= int(n) and len(t) > 0 for t, n in zip(targets, out_lengths.tolist())]
    keep = [i for i, ok in enumerate(feasible) if ok]
    skipped = len(targets) - len(keep)
    if skipped:
        log.warning("CTC: skipped %d of %d utterance(s) whose transcript cannot fit their output frames",
                    skipped, len(targets))
    if not keep:  # a zero that still depends on the graph, so DDP sees every parameter used
        return CTCResult(log_probs.sum() * 0.0, 0, skipped)
    index = torch.tensor(keep, device=log_probs.device)
    lp = log_probs.index_select(0, index).transpose(0, 1).float()  # [T, B', C] as CTCLoss wants
    flat = torch.tensor([c for i in keep for c in targets[i]], dtype=torch.long)
    target_lengths = torch.tensor([len(targets[i]) for i in keep], dtype=torch.long)
    loss = torch.nn.functional.ctc_loss(lp, flat.to(lp.device), out_lengths.index_select(0, index),
                                        target_lengths.to(lp.device), blank=0, reduction="sum",
                                        zero_infinity=False)
    if reduction == "mean_utterance":
        loss = loss / len(keep)
    return CTCResult(loss, len(keep), skipped)
