"""Turn metric inputs (numpy arrays, torch tensors, lists) into float64 numpy with a clear shape check."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_array(value: Any, name: str, ndim: int) -> np.ndarray:
    """``value`` as a float64 array of exactly ``ndim`` dimensions; torch tensors are detached to CPU.

    Metrics are computed in float64 so that a value does not depend on the dtype the model produced.
    """
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch here
        value = value.detach().cpu().float().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(array.shape)}")
    return array


def check_same_shape(a: np.ndarray, b: np.ndarray, names: str, hint: str) -> None:
    """Raise a ValueError naming both shapes when two frame-aligned inputs differ."""
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}; {hint}")
