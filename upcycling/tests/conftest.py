"""Every upcycling test starts from the same torch seed, so random weights are reproducible."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
