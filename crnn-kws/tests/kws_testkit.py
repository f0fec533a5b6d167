"""Helpers shared by the crnn-kws tests: config paths and small configs."""

from __future__ import annotations

from pathlib import Path

from crnn_kws.config import KwsConfig
from repro.train import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def config(name: str = "tiny", *overrides: str) -> KwsConfig:
    return load_config(KwsConfig, CONFIGS / f"{name}.json", list(overrides))
