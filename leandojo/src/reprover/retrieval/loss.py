"""Training losses of the retriever over a batch's similarity matrix.

A batch of B queries comes with B positive premises and ``B * num_negatives`` negatives; every query is
scored against all of them (in-batch negatives), giving a [B, C] cosine matrix S with C = B * (1 + n).
``labels`` [B, C] is 1 where a candidate is one of the query's *true* positives (another example's positive,
or even a sampled negative, may be a premise this tactic also uses: it must not be pushed away).

* ``mse`` (the released code, RP ``PremiseRetriever.forward``): mean squared error between S and labels.
* ``contrastive`` (the paper's DPR-style framing): for query i with its own positive in column i,
  ``-log softmax`` of column i among {column i} ∪ {columns labelled 0}, on S / temperature. Columns that are
  other true positives of i are left out of the denominator. The temperature is ours (the paper gives none):
  cosines lie in [-1, 1], and without scaling the softmax is nearly flat.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

LossName = Literal["mse", "contrastive"]


def mse_loss(sim: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Released ReProver objective: regress every cosine onto its 0/1 label."""
    return F.mse_loss(sim.float(), labels.float())


def contrastive_loss(sim: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Multi-candidate InfoNCE; query i's target is column i (its own positive premise)."""
    b = sim.shape[0]
    logits = sim.float() / temperature  # [B, C]
    own = torch.arange(b, device=sim.device)
    # hide the query's other true positives: they are neither target nor negative
    hide = labels.bool().clone()
    hide[own, own] = False
    logits = logits.masked_fill(hide, float("-inf"))
    return F.cross_entropy(logits, own)


def retrieval_loss(sim: torch.Tensor, labels: torch.Tensor, name: LossName, temperature: float = 0.05) -> torch.Tensor:
    if sim.shape != labels.shape or sim.shape[1] < sim.shape[0]:
        raise ValueError(f"similarity {tuple(sim.shape)} and labels {tuple(labels.shape)} must both be [B, C>=B]")
    if name == "mse":
        return mse_loss(sim, labels)
    if name == "contrastive":
        return contrastive_loss(sim, labels, temperature)
    raise ValueError(f"unknown retrieval loss {name!r}; choose 'mse' or 'contrastive'")
