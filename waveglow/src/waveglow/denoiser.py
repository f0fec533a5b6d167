"""The official WaveGlow denoiser: subtract the model's own bias spectrum from its output.

A trained WaveGlow adds a faint constant hum ("line noise", NVIDIA/waveglow #55). Its spectrum is
estimated once by synthesising from an all-zeros log-mel (magnitude 1 everywhere, not silence; the
official denoiser's default ``mode="zeros"``) with sigma = 0, and taking the STFT magnitude of the first
frame. Denoising subtracts ``strength`` times that spectrum from every frame's magnitude, clamps at zero
and resynthesises with the original phase.
The STFT is ninerepro.audio's Tacotron one (n_fft 1024, hop n_fft / 4, Hann), as in the official denoiser.py.

The output is ``[B, 1, T]`` like the official denoiser's, so ported code such as the Tacotron 2 notebook's
``denoiser(audio, 0.01)[:, 0]`` gets the audio rows it expects; the input may be ``[B, T]`` or ``[B, 1, T]``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from ninerepro.audio.stft import STFT
from waveglow.inference_model import WaveGlowInference
from waveglow.model import WaveGlow


class Denoiser(nn.Module):
    """Bias-spectrum subtraction for audio from ``waveglow``; ``forward(audio, strength)`` returns [B, 1, T].

    ``waveglow`` is a ``WaveGlow`` or its ``for_inference()`` form; it is used once, here, and not kept.
    """

    def __init__(self, waveglow: WaveGlow | WaveGlowInference, filter_length: int = 1024, n_overlap: int = 4,
                 win_length: int = 1024, mode: Literal["zeros", "normal"] = "zeros", n_frames: int = 88) -> None:
        super().__init__()
        self.stft = STFT(filter_length, filter_length // n_overlap, win_length)
        ref = waveglow.upsample.weight
        shape = (1, waveglow.cfg.n_mel_channels, n_frames)  # official: 88 frames of 80 mels
        if mode == "zeros":
            mel = torch.zeros(shape, dtype=ref.dtype, device=ref.device)
        elif mode == "normal":
            mel = torch.randn(shape, dtype=ref.dtype, device=ref.device)
        else:
            raise ValueError(f"Denoiser mode must be 'zeros' or 'normal', got {mode!r}")
        with torch.no_grad():
            bias_audio = waveglow.infer(mel, sigma=0.0).float()
            bias_spec, _ = self.stft.to(ref.device).transform(bias_audio)  # [1, bins, frames]
        self.register_buffer("bias_spec", bias_spec[:, :, :1])  # first frame: [1, bins, 1]

    def forward(self, audio: Tensor, strength: float = 0.1) -> Tensor:
        """audio [B, T] or [B, 1, T] (any float dtype) -> denoised fp32 audio [B, 1, T] (official shape)."""
        if not strength >= 0:
            raise ValueError(f"denoiser strength must be >= 0 (0.01-0.1 typical), got {strength}")
        if audio.dim() == 3 and audio.shape[1] == 1:
            audio = audio[:, 0]
        if audio.dim() != 2:
            raise ValueError(f"Denoiser expects audio [batch, samples] or [batch, 1, samples], "
                             f"got {tuple(audio.shape)}")
        audio = audio.float()
        magnitude, phase = self.stft.transform(audio)
        magnitude = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        return self.stft.inverse(magnitude, phase, length=audio.shape[-1]).reshape(audio.shape[0], 1, -1)
