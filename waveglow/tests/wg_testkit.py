"""Test helpers shared by the model tests: a tiny config, a fully randomised model, matching inputs."""

from __future__ import annotations

import torch

from waveglow.config import WaveGlowModelConfig, WNConfig
from waveglow.model import WaveGlow


def tiny_config(**overrides) -> WaveGlowModelConfig:
    base = dict(n_mel_channels=6, n_flows=4, n_group=8, n_early_every=2, n_early_size=2,
                wn=WNConfig(n_layers=3, n_channels=16), upsample_kernel=64, upsample_stride=16)
    base.update(overrides)
    return WaveGlowModelConfig(**base)


def randomised(cfg: WaveGlowModelConfig, seed: int = 0) -> WaveGlow:
    """A model whose every parameter (zero end convs included) is random, so no coupling is the identity."""
    torch.manual_seed(seed)
    model = WaveGlow(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".W"):
                p.add_(0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, 0.05 if ".end." in name else 0.3)
    return model


def inputs(batch: int = 2, frames: int = 5, cfg: WaveGlowModelConfig | None = None):
    cfg = cfg or tiny_config()
    g = torch.Generator().manual_seed(1)
    mel = torch.randn(batch, cfg.n_mel_channels, frames, generator=g)
    audio = 0.3 * torch.randn(batch, frames * cfg.upsample_stride, generator=g)
    return mel, audio
