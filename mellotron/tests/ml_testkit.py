"""Helpers for the mellotron tests: the official-format fixture and a tiny config of our own."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mellotron import MellotronModelConfig, load_checkpoint
from ninerepro.train.config import from_dict
from ninerepro.tts.testing import write_tone_corpus  # noqa: F401  (re-exported for the tests)

FIXTURES = Path(__file__).parent / "fixtures"


def official_hparams() -> dict:
    return json.loads((FIXTURES / "official_tiny_hparams.json").read_text())


def official_model():
    model = load_checkpoint(FIXTURES / "official_tiny.pt", hparams=official_hparams())
    model.prenet_dropout = False
    return model


def official_outputs() -> dict:
    return torch.load(FIXTURES / "official_outputs.pt", weights_only=True)


def tiny_config(**overrides) -> MellotronModelConfig:
    """The fixture's sizes (fast on CPU), as a config object."""
    return from_dict(MellotronModelConfig, official_hparams() | overrides)


