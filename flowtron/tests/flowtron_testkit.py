"""Helpers for the flowtron tests: the official-format fixtures (tests/fixtures/README.md) and a tiny config."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from flowtron import Flowtron, ModelConfig

FIXTURES = Path(__file__).parent / "fixtures"
ATOL = 1e-5


def official_configs() -> dict:
    return json.loads((FIXTURES / "official_tiny_configs.json").read_text())


def official_outputs() -> dict:
    return torch.load(FIXTURES / "official_outputs.pt", weights_only=True)


def tiny_config(**overrides) -> ModelConfig:
    values = dict(n_speakers=3, n_speaker_dim=8, n_text_dim=16, n_flows=2, n_attn_channels=12, n_hidden=24,
                  n_lstm_layers=2, mel_encoder_n_hidden=16) | overrides
    return ModelConfig(**values)


def tiny_model(seed: int = 0, **overrides) -> Flowtron:
    """A tiny Flowtron with every weight random (the zero-initialised output convs too, so flows are not identity)."""
    torch.manual_seed(seed)
    model = Flowtron(tiny_config(**overrides))
    with torch.no_grad():
        for flow in model.flows:
            step = getattr(flow, "ar_step", flow)
            step.conv.weight.normal_(0, 0.05)
            step.conv.bias.normal_(0, 0.05)
    return model.eval()


def valid(x: torch.Tensor, lengths: torch.Tensor, time_dim: int) -> list[torch.Tensor]:
    """Each item's valid frames (time on ``time_dim``), for comparing outputs whose padding may differ."""
    return [x[b].narrow(time_dim - 1, 0, int(n)) for b, n in enumerate(lengths)]
