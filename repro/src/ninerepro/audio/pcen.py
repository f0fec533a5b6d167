"""Per-channel energy normalisation (Wang et al. 2017, "Trainable frontend for robust and far-field
keyword spotting").

    M[t] = (1 - s) M[t-1] + s E[t]                       (IIR smoother along time, per channel)
    PCEN[t] = (E[t] / (eps + M[t])^alpha + delta)^r - delta^r

Dividing by a smoothed version of the energy acts as automatic gain control (loudness invariance),
and the root compression replaces the log, which is what made it beat log-mel in far-field keyword
spotting. With ``trainable=True`` each channel learns its own s, alpha, delta, r, stored in log space
so they stay positive under gradient descent.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PCEN(nn.Module):
    """PCEN over mel energies [B, n_channels, T] (or [n_channels, T]); returns the same shape."""

    def __init__(self, n_channels: int, s: float = 0.025, alpha: float = 0.98, delta: float = 2.0,
                 r: float = 0.5, eps: float = 1e-6, trainable: bool = False) -> None:
        super().__init__()
        for name, value in (("s", s), ("alpha", alpha), ("delta", delta), ("r", r), ("eps", eps)):
            if not value > 0:
                raise ValueError(f"PCEN: {name} must be positive, got {value}")
        if s > 1:
            raise ValueError(f"PCEN: smoothing coefficient s must be in (0, 1], got {s}")
        self.n_channels = n_channels
        self.eps = eps
        for name, value in (("log_s", s), ("log_alpha", alpha), ("log_delta", delta), ("log_r", r)):
            init = torch.full((n_channels,), math.log(value))
            if trainable:
                self.register_parameter(name, nn.Parameter(init))
            else:
                self.register_buffer(name, init)

    def smooth(self, energy: torch.Tensor) -> torch.Tensor:
        """The IIR smoother M; starts from M[-1] = E[0] so the first frame is not a transient."""
        s = self.log_s.exp().clamp(max=1.0)[:, None].to(energy)  # [C, 1]
        steps = []
        state = energy[..., 0]
        for t in range(energy.shape[-1]):
            state = (1 - s[:, 0]) * state + s[:, 0] * energy[..., t]
            steps.append(state)
        return torch.stack(steps, dim=-1)

    def forward(self, energy: torch.Tensor) -> torch.Tensor:
        if energy.dim() not in (2, 3) or energy.shape[-2] != self.n_channels:
            raise ValueError(f"PCEN: expected energies [B, {self.n_channels}, T] or [{self.n_channels}, T], "
                             f"got {tuple(energy.shape)}")
        if not energy.is_floating_point() or energy.shape[-1] == 0:
            raise ValueError("PCEN: energies must be a non-empty float tensor (mel power, not log-mel)")
        alpha, delta, r = (p.exp()[:, None].to(energy) for p in (self.log_alpha, self.log_delta, self.log_r))
        m = self.smooth(energy)
        # (eps + M)^-alpha computed as exp(-alpha * log(eps + M)) for stability with tiny M.
        gain = torch.exp(-alpha * torch.log(self.eps + m))
        return (energy * gain + delta).pow(r) - delta.pow(r)
