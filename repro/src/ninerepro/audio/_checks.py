"""Input validation shared by the audio feature functions.

Every public function accepts numpy arrays or torch tensors; these helpers turn them into a float
tensor and raise a readable ValueError (naming the argument and the fix) instead of letting a shape or
dtype problem surface as a deep torch traceback.
"""

from __future__ import annotations

import numpy as np
import torch

from ninerepro.audio.errors import SampleRateError


def as_audio_tensor(wav: np.ndarray | torch.Tensor, name: str = "wav", *, min_samples: int = 1,
                    check_range: bool = True) -> tuple[torch.Tensor, bool]:
    """Return ``(tensor, came_from_numpy)`` for audio of shape [T] or [B, T] with float samples.

    ``min_samples`` guards the reflect padding of centred STFTs, which needs more samples than half
    the FFT size. ``check_range`` enforces [-1, 1], the convention of every loader here (int16 / 32768).
    """
    from_numpy = isinstance(wav, np.ndarray)
    if not from_numpy and not isinstance(wav, torch.Tensor):
        raise TypeError(f"{name}: expected a numpy array or torch tensor, got {type(wav).__name__}")
    tensor = torch.from_numpy(np.ascontiguousarray(wav)) if from_numpy else wav
    if not tensor.is_floating_point():
        raise ValueError(f"{name}: expected float samples in [-1, 1], got dtype {tensor.dtype}; "
                         "convert integer PCM with x / 32768.0")
    if tensor.dim() not in (1, 2):
        raise ValueError(f"{name}: expected shape [T] or [B, T], got {tuple(tensor.shape)}")
    if tensor.shape[-1] < min_samples:
        raise ValueError(f"{name}: {tensor.shape[-1]} samples is too short; at least {min_samples} are needed")
    if check_range and tensor.numel() > 0:
        lo, hi = float(tensor.min()), float(tensor.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name}: contains NaN or infinite samples")
        if lo < -1.0 or hi > 1.0:
            raise ValueError(f"{name}: samples span [{lo:.3g}, {hi:.3g}], outside [-1, 1]; "
                             "scale integer PCM by 1/32768 or peak-normalise first")
    return tensor, from_numpy


def like_input(result: torch.Tensor, from_numpy: bool) -> np.ndarray | torch.Tensor:
    """Give the caller back the kind of object they passed in (numpy in, numpy out)."""
    return result.detach().cpu().numpy() if from_numpy else result


def check_sample_rate(sr: int | None, expected: int, what: str) -> None:
    """Raise :class:`SampleRateError` when a caller declares audio at a rate ``what`` is not built for."""
    if sr is not None and int(sr) != int(expected):
        raise SampleRateError(f"{what} expects {expected} Hz audio but got sr={sr}; resample first with "
                              f"ninerepro.audio.resample(wav, {sr}, {expected})")
