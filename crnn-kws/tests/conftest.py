"""Fixtures of the crnn-kws tests (helpers live in kws_testkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib (repo pytest config) puts no test folder on sys.path; the helpers need it
sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """A small synthetic wake-phrase corpus (about 5 s of eSpeak synthesis), shared by the tests."""
    from crnn_kws.corpus import write_corpus

    root = tmp_path_factory.mktemp("kws") / "corpus"
    return write_corpus(root, "talk type", n_positive=20, n_confusable=10, n_speech=12, noise_seconds=10.0)
