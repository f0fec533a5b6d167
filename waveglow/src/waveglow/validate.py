"""Checks at the synthesis boundary: a wrong mel fails here with its likely cause, not as NaN audio later.

WaveGlow is conditioned on the natural-log mel of Tacotron 2 (``log(clamp(mel, 1e-5))``): values lie between
log(1e-5) = -11.5 (silence) and about +4 (loud speech). The common mistakes each leave a signature:

* a dB-scale mel (``10 * log10`` or ``librosa.power_to_db``) reaches -80 to -100 or exceeds +20;
* a linear-magnitude mel has no negative value at all (its silence is 0, not -11.5);
* NaN or inf values, usually from a log of 0 or a diverged acoustic model, give NaN audio.

``check_scale=False`` skips the range checks (for a deliberately odd input); shape and finiteness are
always checked.
"""

from __future__ import annotations

import torch
from torch import Tensor

from waveglow.config import WaveGlowModelConfig

LOG_MEL_MIN = -25.0
"""below this the mel is not a natural-log mel (its floor is log(1e-5) = -11.5; allow other floors to 1e-10)"""
LOG_MEL_MAX = 12.0
"""above this neither (a full-scale sine gives a log-mel of about +4)"""


def check_mel_shape(mel: Tensor, cfg: WaveGlowModelConfig) -> None:
    """[batch, n_mel, frames >= 1], or a ValueError saying how to get there."""
    n_mel = cfg.n_mel_channels
    if not isinstance(mel, Tensor):
        raise TypeError(f"mel must be a torch.Tensor [batch, {n_mel}, frames], got {type(mel).__name__}")
    if mel.dim() != 3 or mel.shape[1] != n_mel:
        hint = " (add a batch axis: mel.unsqueeze(0))" if mel.dim() == 2 and mel.shape[0] == n_mel else ""
        raise ValueError(
            f"WaveGlow expects a mel of shape [batch, {n_mel}, frames], got {tuple(mel.shape)}{hint}; "
            f"compute it with the config's data settings (n_mel_channels={n_mel})"
        )
    if mel.shape[2] < 1:
        raise ValueError(
            f"mel has 0 frames; the upsampler trims {cfg.upsample_kernel - cfg.upsample_stride} samples, so at "
            "least 1 frame is needed"
        )


def check_mel_values(mel: Tensor, *, check_scale: bool = True) -> None:
    """Finite values and, unless ``check_scale`` is False, the natural-log scale (see the module docstring)."""
    if not mel.is_floating_point():
        raise TypeError(f"mel must be a floating-point tensor, got {mel.dtype}; convert it with mel.float()")
    finite = torch.isfinite(mel)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"mel holds {bad} NaN/inf value(s) of {mel.numel()}; a log of 0 (clamp the magnitude at 1e-5 before "
            "the log) or a diverged acoustic model gives this, and WaveGlow would return NaN audio"
        )
    if not check_scale:
        return
    lo, hi = float(mel.min()), float(mel.max())
    if lo < LOG_MEL_MIN or hi > LOG_MEL_MAX:
        raise ValueError(
            f"mel values span [{lo:.1f}, {hi:.1f}], outside a natural-log mel's range (about [-11.5, 4]): it looks "
            "like a dB-scale mel (10*log10 or librosa.power_to_db); WaveGlow needs log(clamp(mel, 1e-5)) "
            "(ninerepro.audio.tacotron_mel); pass check_scale=False to synthesise anyway"
        )
    if lo >= 0.0 and hi > 0.0:
        raise ValueError(
            f"mel has no negative value (range [{lo:.2f}, {hi:.2f}]): it looks like a linear-magnitude mel; take "
            "log(clamp(mel, 1e-5)) first (ninerepro.audio.tacotron_mel); pass check_scale=False to synthesise anyway"
        )


def compute_dtype_for(mel: Tensor, weight: Tensor) -> torch.dtype:
    """The dtype synthesis runs in: the model's; a mel in another float dtype is cast to it.

    fp16 on CPU is refused with the alternatives: PyTorch's CPU half kernels are slow or missing for these
    convs, and the official code never runs half precision off the GPU.
    """
    if weight.dtype == torch.float16 and weight.device.type == "cpu":
        raise ValueError("fp16 synthesis needs a CUDA device; on CPU use model.float() (fp32) or "
                         "model.to(torch.bfloat16)")
    return weight.dtype


def check_sigma(sigma: float) -> None:
    if not sigma >= 0:  # also catches NaN
        raise ValueError(f"sigma must be >= 0 (0 = deterministic, 0.6-1.0 typical), got {sigma}")
