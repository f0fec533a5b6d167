"""Shared upcycling test fixtures: the same torch seed for every test (reproducible random weights) and a tiny
prepared token corpus for the training tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="module")
def tokens(tmp_path_factory) -> str:
    """A tiny prepared byte-token corpus (8 short code files, a quarter held out) for training tests."""
    from upcycling.prepare import prepare_tokens

    d = tmp_path_factory.mktemp("corpus")
    files = []
    for i in range(8):
        p = d / f"d{i}.txt"
        p.write_text(f"def f(x):\n    return x * {i}\n" * 30)
        files.append(str(p))
    prepare_tokens(files, d / "t.bin", val_fraction=0.25)
    return str(d / "t.bin")
