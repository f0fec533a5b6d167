"""Mel -> audio for the Tacotron-family models (Mellotron, Flowtron): WaveGlow (+ denoiser) or Griffin-Lim.

WaveGlow is the papers' vocoder (sigma 0.8, denoiser strength 0.01 in the official notebooks); it is imported only
when a WaveGlow checkpoint is given, so the toolkit does not depend on the ``waveglow`` package. Griffin-Lim needs
no checkpoint, so every mode works from a fresh clone; it sounds phasey but keeps pitch and timing, which is what
the demos measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ninerepro.audio.griffin_lim import griffin_lim
from ninerepro.audio.mel import TacotronSTFT


class GriffinLimVocoder:
    def __init__(self, n_iters: int = 30, seed: int = 0):
        self.stft = TacotronSTFT()
        self.n_iters, self.seed = n_iters, seed

    @torch.no_grad()
    def __call__(self, mel: Tensor) -> np.ndarray:
        """log-mel [1, 80, T] or [80, T] -> float32 audio in [-1, 1]."""
        linear = self.stft.mel_to_linear(mel.float().cpu().reshape(1, 80, -1))
        wav = griffin_lim(linear, self.stft.stft_fn, self.n_iters, generator=torch.Generator().manual_seed(self.seed))
        wav = wav[0].numpy()
        return (wav / max(1.0, float(np.abs(wav).max()))).astype(np.float32)


class WaveGlowVocoder:
    def __init__(self, checkpoint: str | Path, sigma: float = 0.8, denoiser_strength: float = 0.01,
                 device: str | torch.device = "cpu"):
        import waveglow
        from waveglow.denoiser import Denoiser

        self.model = waveglow.load_checkpoint(checkpoint, device=device).prepare_for_inference()
        self.denoiser = Denoiser(self.model).to(device) if denoiser_strength > 0 else None
        self.sigma, self.strength, self.device = sigma, denoiser_strength, torch.device(device)

    @torch.no_grad()
    def __call__(self, mel: Tensor) -> np.ndarray:
        audio = self.model.infer(mel.reshape(1, 80, -1).to(self.device), sigma=self.sigma)
        if self.denoiser is not None:
            audio = self.denoiser(audio, self.strength)[:, 0]  # the denoiser returns [B, 1, T] like the official
        return audio[0].float().clamp(-1, 1).cpu().numpy()


def make_vocoder(waveglow_checkpoint: str | Path | None, device: str = "cpu", sigma: float = 0.8,
                 denoiser_strength: float = 0.01):
    if waveglow_checkpoint:
        return WaveGlowVocoder(waveglow_checkpoint, sigma, denoiser_strength, device)
    return GriffinLimVocoder()
