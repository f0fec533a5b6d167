"""``make reproduce-waveglow`` reproduces the paper's global batch (24) and the official fp16 by default."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FOLDER = Path(__file__).parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(tmp_path: Path, *variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-n", "-C", str(FOLDER), "stage2-train", f"EXP={tmp_path}", *variables],
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("gpus", "per_gpu"), [("8", "3"), ("2", "12"), ("1", "24")])
def test_training_stage_splits_the_global_batch_of_24_over_the_gpus_in_fp16(tmp_path, gpus, per_gpu):
    out = dry_run(tmp_path, f"NGPU={gpus}")
    assert out.returncode == 0, out.stderr
    assert f"--nproc_per_node={gpus}" in out.stdout
    assert f"data.batch_size={per_gpu} train.grad_accum=1 train.precision=fp16" in out.stdout


def test_bf16_and_accumulation_are_explicit_choices_and_an_uneven_split_is_refused(tmp_path):
    out = dry_run(tmp_path, "NGPU=2", "GRAD_ACCUM=4", "PRECISION=bf16")
    assert "data.batch_size=3 train.grad_accum=4 train.precision=bf16" in out.stdout
    (tmp_path / ".data.done").touch()
    bad = subprocess.run(["make", "-C", str(FOLDER), "stage2-train", f"EXP={tmp_path}", "NGPU=5"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "not divisible by 5 GPU(s)" in bad.stderr
