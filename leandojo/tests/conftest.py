"""Shared fixtures: the hand-written benchmark in tests/fixtures/leandojo_benchmark_4 and writable copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprover.data import Benchmark

FIXTURE = Path(__file__).parent / "fixtures" / "leandojo_benchmark_4"


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def bench() -> Benchmark:
    return Benchmark(FIXTURE)


@pytest.fixture()
def bench_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture benchmark, for tests that break it."""
    dst = tmp_path / "bench"
    shutil.copytree(FIXTURE, dst)
    return dst


@pytest.fixture(scope="session")
def theorems(bench: Benchmark) -> list:
    """All 24 fixture theorems (the random split's three parts)."""
    return [t for s in ("train", "val", "test") for t in bench.split("random", s)]
