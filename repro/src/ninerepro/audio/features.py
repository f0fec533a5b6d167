"""ASR and keyword-spotting features: Deep Speech 2 spectrogram, Deep Speech 1 context stacking,
configurable log-mel / mel energies (the input of PCEN, see ``pcen.py``).

All take [T] or [B, T] audio (numpy or torch; numpy in -> numpy out) and return frequency-major
features [..., n_features, frames] with ``frames = 1 + T // hop`` (centred frames).
"""

from __future__ import annotations

import numpy as np
import torch

from ninerepro.audio._checks import as_audio_tensor, check_sample_rate, like_input
from ninerepro.audio.filterbank import mel_filterbank
from ninerepro.audio.stft import STFT


def ds2_spectrogram(wav: np.ndarray | torch.Tensor, sr: int = 16000, *, window_size: float = 0.02,
                    window_stride: float = 0.01, normalize: bool = True,
                    pad_mode: str = "constant") -> np.ndarray | torch.Tensor:
    """Deep Speech 2 input as deepspeech.pytorch computes it: log1p(|STFT|), per-utterance normalised.

    At 16 kHz: 320-sample symmetric Hamming window (``scipy.signal.hamming(320)``), n_fft 320, hop 160
    -> 161 bins. ``normalize`` subtracts the mean and divides by the (unbiased) standard deviation over
    the whole utterance, separately for each batch item. ``pad_mode="constant"`` is librosa >= 0.10's
    centre padding (zeros); pass "reflect" to match runs made with older librosa.
    """
    if sr <= 0:
        raise ValueError(f"ds2_spectrogram: sample rate must be positive, got {sr}")
    n_fft = round(sr * window_size)
    hop = round(sr * window_stride)
    tensor, from_numpy = as_audio_tensor(wav, "wav", min_samples=n_fft // 2 + 1)
    stft = STFT(n_fft, hop, n_fft, window="hamming", pad_mode=pad_mode, periodic=False)
    with torch.no_grad():
        spec = torch.log1p(stft.magnitude_frames(tensor)).transpose(-1, -2)  # [..., bins, frames]
        if normalize:
            dims = (-2, -1)
            spec = (spec - spec.mean(dim=dims, keepdim=True)) / spec.std(dim=dims, keepdim=True).clamp_min(1e-8)
    return like_input(spec.contiguous(), from_numpy)


def stack_context(features: np.ndarray | torch.Tensor, context: int,
                  pad: str = "zero") -> np.ndarray | torch.Tensor:
    """Deep Speech 1 input: each frame concatenated with ``context`` frames on each side.

    ``features`` is [..., D, T]; the result is [..., (2C + 1) * D, T] where block ``k`` (rows
    ``k*D:(k+1)*D``) holds frame ``t + k - C``. Frames outside the utterance are zeros (``pad="zero"``,
    as Mozilla DeepSpeech does) or copies of the first/last frame (``pad="edge"``).
    """
    if pad not in ("zero", "edge"):
        raise ValueError(f"stack_context: pad must be 'zero' or 'edge', got {pad!r}")
    if context < 0:
        raise ValueError(f"stack_context: context must be >= 0, got {context}")
    from_numpy = isinstance(features, np.ndarray)
    x = torch.from_numpy(features) if from_numpy else features
    if x.dim() < 2:
        raise ValueError(f"stack_context: expected [..., D, T] features, got shape {tuple(x.shape)}")
    n_frames = x.shape[-1]
    if pad == "zero":
        padded = torch.nn.functional.pad(x, (context, context))
    else:
        padded = torch.cat([x[..., :1].expand(*x.shape[:-1], context), x,
                            x[..., -1:].expand(*x.shape[:-1], context)], dim=-1)
    blocks = [padded[..., k: k + n_frames] for k in range(2 * context + 1)]  # each [..., D, T]
    return like_input(torch.cat(blocks, dim=-2), from_numpy)


def mel_energies(wav: np.ndarray | torch.Tensor, sr: int, *, n_fft: int = 480, hop: int = 160,
                 win: int | None = None, n_mels: int = 40, fmin: float = 0.0, fmax: float | None = None,
                 power: float = 2.0, window: str = "hann", expected_sr: int | None = None,
                 ) -> np.ndarray | torch.Tensor:
    """Mel filterbank energies (|STFT|^power, Slaney mel) [..., n_mels, frames]; PCEN's input.

    Defaults suit 16 kHz keyword spotting: 30 ms window, 10 ms hop, 40 bands. ``expected_sr`` makes
    the function refuse audio declared at another rate.
    """
    check_sample_rate(sr, expected_sr or sr, "mel_energies")
    if power <= 0:
        raise ValueError(f"mel_energies: power must be positive (1 = magnitude, 2 = power), got {power}")
    tensor, from_numpy = as_audio_tensor(wav, "wav", min_samples=n_fft // 2 + 1)
    stft = STFT(n_fft, hop, win or n_fft, window=window)
    basis = torch.from_numpy(mel_filterbank(sr, n_fft, n_mels, fmin, fmax)).to(tensor)
    with torch.no_grad():
        magnitude = stft.magnitude_frames(tensor)  # [..., frames, bins]
        mel = torch.matmul(magnitude.pow(power), basis.T).transpose(-1, -2)  # [..., n_mels, frames]
    return like_input(mel.contiguous(), from_numpy)


def log_mel(wav: np.ndarray | torch.Tensor, sr: int, *, log: str = "ln", floor: float = 1e-6,
            **mel_kwargs) -> np.ndarray | torch.Tensor:
    """Log mel spectrogram: ``ln(max(E, floor))`` or, with ``log="db"``, ``10 log10(max(E, floor))``.

    ``mel_kwargs`` go to :func:`mel_energies` (n_fft, hop, n_mels, fmin, fmax, power, ...).
    """
    if log not in ("ln", "db"):
        raise ValueError(f"log_mel: log must be 'ln' or 'db', got {log!r}")
    energies = mel_energies(wav, sr, **mel_kwargs)
    from_numpy = isinstance(energies, np.ndarray)
    e = torch.from_numpy(energies) if from_numpy else energies
    out = torch.log(e.clamp_min(floor)) if log == "ln" else 10.0 * torch.log10(e.clamp_min(floor))
    return like_input(out, from_numpy)
