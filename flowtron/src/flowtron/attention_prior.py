"""The static beta-binomial alignment prior of Flowtron's ``data.py`` (from the RAD-TTS alignment work).

For mel frame i = 1..M over P tokens, P(token j | frame i) = BetaBinomial(j; n = P - 1, a = s*i, b = s*(M + 1 - i)):
a soft band along the diagonal whose centre moves from the first to the last token. Multiplying the attention by
it (``flowtron.attention``) makes a from-scratch model align early, the failure users hit most (flowtron #20, #41,
#91); the recipe then resumes without it.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import betabinom
from torch import Tensor


def beta_binomial_prior(n_tokens: int, n_frames: int, scaling: float = 1.0, threshold: float = 0.0) -> Tensor:
    """[n_frames, n_tokens] float32; values below ``threshold`` set to 0 (official ``attn_prior_threshold``)."""
    if n_tokens < 1 or n_frames < 1:
        raise ValueError(f"the attention prior needs >= 1 token and frame, got {n_tokens} tokens, {n_frames} frames")
    i = np.arange(1, n_frames + 1, dtype=np.float64)[:, None]
    prior = betabinom.pmf(np.arange(n_tokens)[None, :], n_tokens - 1, scaling * i, scaling * (n_frames + 1 - i))
    out = torch.from_numpy(prior.astype(np.float32))
    return out.masked_fill(out < threshold, 0.0) if threshold > 0 else out


__all__ = ["beta_binomial_prior"]
