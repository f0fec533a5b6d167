"""The Tacotron 2 / WaveGlow / Flowtron / Mellotron mel front end (tts.md §1).

22050 Hz audio in [-1, 1] -> centred STFT (n_fft 1024, hop 256, periodic Hann) -> magnitude ->
80 Slaney mel bands 0-8000 Hz -> natural log of clamp(x, 1e-5). ``TacotronSTFT`` is the module (put
it on a GPU for batches); ``tacotron_mel`` is the one-call function that keeps numpy in numpy.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from ninerepro.audio._checks import as_audio_tensor, check_sample_rate, like_input
from ninerepro.audio.filterbank import mel_filterbank
from ninerepro.audio.stft import STFT

LOG_CLAMP = 1e-5  # floor before the log: log(1e-5) = -11.51 is the "silence" value of every mel


def dynamic_range_compression(x: torch.Tensor, clip_val: float = LOG_CLAMP, C: float = 1.0) -> torch.Tensor:
    """``log(clamp(x * C, min=clip_val))`` - the official compression (C = 1)."""
    return torch.log(torch.clamp(x * C, min=clip_val))


def dynamic_range_decompression(x: torch.Tensor, C: float = 1.0) -> torch.Tensor:
    """Inverse of :func:`dynamic_range_compression` (exact above the clamp)."""
    return torch.exp(x) / C


class TacotronSTFT(nn.Module):
    """Log-mel extractor with the official constructor arguments and the official output.

    ``forward`` / ``mel_spectrogram`` take [T] or [B, T] float audio in [-1, 1] and return [80, frames]
    or [B, 80, frames], frames = 1 + T // hop_length. ``mel_basis`` and its pseudo-inverse are
    buffers, so moving the module moves them.
    """

    def __init__(self, filter_length: int = 1024, hop_length: int = 256, win_length: int = 1024,
                 n_mel_channels: int = 80, sampling_rate: int = 22050, mel_fmin: float = 0.0,
                 mel_fmax: float = 8000.0) -> None:
        super().__init__()
        self.sampling_rate = sampling_rate
        self.n_mel_channels = n_mel_channels
        self.stft_fn = STFT(filter_length, hop_length, win_length, window="hann")
        basis = mel_filterbank(sampling_rate, filter_length, n_mel_channels, mel_fmin, mel_fmax)
        self.register_buffer("mel_basis", torch.from_numpy(basis).float(), persistent=False)
        self.register_buffer("mel_basis_pinv", torch.from_numpy(np.linalg.pinv(basis)).float(),
                             persistent=False)

    def spectral_normalize(self, magnitudes: torch.Tensor) -> torch.Tensor:
        return dynamic_range_compression(magnitudes)

    def spectral_de_normalize(self, magnitudes: torch.Tensor) -> torch.Tensor:
        return dynamic_range_decompression(magnitudes)

    def linear_to_mel(self, magnitude: torch.Tensor) -> torch.Tensor:
        """[..., n_fft // 2 + 1, frames] linear magnitude -> [..., n_mel, frames] mel magnitude."""
        return torch.matmul(self.mel_basis.to(magnitude), magnitude)

    def mel_spectrogram(self, y: torch.Tensor) -> torch.Tensor:
        """Log-mel of ``y`` ([T] or [B, T], float in [-1, 1])."""
        y, _ = as_audio_tensor(y, "y", min_samples=self.stft_fn.filter_length // 2 + 1)
        magnitude = self.stft_fn.magnitude_frames(y)  # [B, frames, bins]
        mel = torch.matmul(magnitude, self.mel_basis.to(magnitude).T)  # [B, frames, n_mel]
        return self.spectral_normalize(mel).transpose(-1, -2).contiguous()  # [B, n_mel, frames]

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.mel_spectrogram(y)

    def mel_to_linear(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Approximate linear magnitude from a log-mel: pseudo-inverse of the basis, clamped at 0.

        The mel map discards detail (513 bins -> 80), so this is the least-squares estimate; use it
        to feed Griffin-Lim, not as an exact inverse.
        """
        if log_mel.shape[-2] != self.n_mel_channels:
            raise ValueError(f"mel_to_linear: expected {self.n_mel_channels} mel channels in dim -2, "
                             f"got shape {tuple(log_mel.shape)}")
        mel = self.spectral_de_normalize(log_mel)
        return torch.clamp(torch.matmul(self.mel_basis_pinv.to(mel), mel), min=0.0)


@functools.lru_cache(maxsize=4)
def _extractor(filter_length: int, hop_length: int, win_length: int, n_mels: int, sr: int,
               fmin: float, fmax: float) -> TacotronSTFT:
    # Built once per setting: the basis and its pseudo-inverse cost more than a short utterance. The
    # buffers stay on CPU; each call copies them to the input's device and dtype (`.to(tensor)`).
    return TacotronSTFT(filter_length, hop_length, win_length, n_mels, sr, fmin, fmax)


def tacotron_mel(wav: np.ndarray | torch.Tensor, sr: int | None = None, *, n_mels: int = 80,
                 fmin: float = 0.0, fmax: float = 8000.0) -> np.ndarray | torch.Tensor:
    """Official Tacotron 2 log-mel of ``wav`` ([T] or [B, T]) -> [n_mels, frames] or [B, n_mels, frames].

    numpy in -> numpy float32 out; a tensor stays on its device. Pass ``sr`` to have the 22050 Hz
    requirement checked (a mismatch raises :class:`~ninerepro.audio.errors.SampleRateError`).
    """
    check_sample_rate(sr, 22050, "tacotron_mel")
    tensor, from_numpy = as_audio_tensor(wav, "wav", min_samples=513)
    if from_numpy:
        tensor = tensor.float()
    extractor = _extractor(1024, 256, 1024, n_mels, 22050, float(fmin), float(fmax))
    with torch.no_grad():
        mel = extractor.mel_spectrogram(tensor)
    return like_input(mel, from_numpy)
