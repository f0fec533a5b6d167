"""Fixtures of the deepspeech tests (helpers live in ds_testkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib (repo pytest config) puts no test folder on sys.path; the helpers need it
sys.path.insert(0, str(Path(__file__).parent))
from ds_testkit import tiny_config, write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", ["ab ba", "a b", "ba ab", "abba"])


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint after 2 optimizer steps (enough to test loading and the CLIs, not accuracy)."""
    from deepspeech.train import build_trainer

    root = tmp_path_factory.mktemp("ckpt")
    manifest = write_corpus(root / "corpus", ["ab ba", "a b", "ba ab", "abba"])
    cfg = tiny_config(f"data.train_manifest={manifest}", "train.max_steps=2")
    build_trainer(cfg, root / "run").fit()
    return root / "run"
