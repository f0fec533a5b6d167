"""Mixed precision: which dtype to compute in, and the autocast context and grad scaler that go with it.

``auto`` picks bf16 on a GPU that supports it (Ampere and newer: no loss scaling needed), fp16 with a
GradScaler on older GPUs (V100), and fp32 on CPU, where autocast brings no speed for these models.
"""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

Precision = Literal["auto", "fp32", "bf16", "fp16"]


def resolve_precision(precision: Precision, device: torch.device) -> Literal["fp32", "bf16", "fp16"]:
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision=fp16 needs a CUDA device; use precision=bf16 or fp32 on CPU")
    return precision


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A GradScaler that is active only for fp16 (bf16 and fp32 have the range to go without)."""
    return torch.amp.GradScaler(device.type, enabled=(precision == "fp16"))


@contextlib.contextmanager
def true_fp32():
    """Turn TF32 off for matmuls and cuDNN inside the block (restored after). cuDNN convolutions and RNNs use TF32
    by default on Ampere and later, rounding to 10 mantissa bits: a CUDA-vs-CPU fp32 check needs real fp32."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
