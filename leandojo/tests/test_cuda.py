"""CUDA correctness (run by `make test-gpu` and `make gpu-check`): retrieval on the GPU returns the premises
the CPU returns, accessibility masks included. Skipped where no GPU is visible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ninerepro.train.precision import true_fp32
from reprover.retrieval.index import search_torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_cuda_retrieval_returns_the_cpu_premises_under_masks():
    g = torch.Generator().manual_seed(0)
    premises = torch.nn.functional.normalize(torch.randn(5000, 64, generator=g), dim=1)
    queries = torch.nn.functional.normalize(torch.randn(8, 64, generator=g), dim=1)
    rng = np.random.default_rng(0)
    masks = [rng.random(5000) < 0.5 for _ in range(8)]
    cpu = search_torch(premises, queries, 20, masks)
    with true_fp32():
        gpu = search_torch(premises.cuda(), queries.cuda(), 20, masks)
    for c, gq in zip(cpu, gpu):
        assert [i for i, _ in gq] == [i for i, _ in c]
        np.testing.assert_allclose([s for _, s in gq], [s for _, s in c], atol=1e-5)
