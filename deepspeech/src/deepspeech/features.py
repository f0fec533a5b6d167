"""Waveform -> model input, with the boundary checks every entry point (training, CLI, server) shares.

DS2 reads the log spectrogram (20 ms / 10 ms, per-utterance normalised); DS1 reads the same frames
stacked with C frames of context on each side (both from ninerepro.audio).
"""

from __future__ import annotations

import numpy as np
import torch

from deepspeech.config import FeatureConfig
from ninerepro.audio import SampleRateError, ds2_spectrogram, resample, stack_context
from ninerepro.text.ctc import CharVocab


def make_vocab(name: str) -> CharVocab:
    """The CTC character set named by ``model.vocab``."""
    if name == "english":
        return CharVocab.english()
    if name == "deepspeech_pytorch":
        return CharVocab.deepspeech_pytorch()
    if name.startswith(("cmn:", "file:")):  # Mandarin characters (DS2 §3.9), saved inline in the config
        from deepspeech.mandarin.text import vocab_from_spec

        return vocab_from_spec(name)
    raise ValueError(f"unknown vocabulary {name[:40]!r}; use 'english', 'deepspeech_pytorch' or 'cmn:<characters>'")


def min_samples(cfg: FeatureConfig) -> int:
    """Shortest audio the STFT accepts: a bit more than half a window."""
    return round(cfg.sample_rate * cfg.window_size) // 2 + 1


def prepare_audio(wav: np.ndarray, sample_rate: int, cfg: FeatureConfig, where: str,
                  allow_resample: bool = False) -> np.ndarray:
    """Validate one waveform and return it as float32 [T] at ``cfg.sample_rate``.

    A different rate is an error unless ``allow_resample`` (a 16 kHz model fed 8 kHz audio silently
    produces garbage). ``where`` names the file or request in every message.
    """
    wav = np.asarray(wav)
    if wav.ndim != 1:
        raise ValueError(f"{where}: expected mono audio of shape [T], got shape {wav.shape}; average the channels")
    if not np.issubdtype(wav.dtype, np.floating):
        raise ValueError(f"{where}: expected float samples in [-1, 1], got dtype {wav.dtype}; divide int16 by 32768")
    if sample_rate != cfg.sample_rate:
        if not allow_resample:
            raise SampleRateError(
                f"{where}: audio is {sample_rate} Hz but the model expects {cfg.sample_rate} Hz; resample it "
                f"(ninerepro.audio.resample) or pass --resample / allow_resample=True"
            )
        wav = resample(wav, sample_rate, cfg.sample_rate)
    if wav.shape[0] < min_samples(cfg):
        raise ValueError(f"{where}: {wav.shape[0]} samples is too short; at least {min_samples(cfg)} "
                         f"({min_samples(cfg) / cfg.sample_rate * 1000:.0f} ms) are needed")
    if not np.all(np.isfinite(wav)):
        raise ValueError(f"{where}: audio contains NaN or infinite samples")
    peak = float(np.max(np.abs(wav)))
    if peak > 1.0:
        raise ValueError(f"{where}: samples reach {peak:.3g}, outside [-1, 1]; scale the audio first")
    return np.ascontiguousarray(wav, dtype=np.float32)


def compute_features(wav: np.ndarray, cfg: FeatureConfig, arch: str) -> torch.Tensor:
    """[F, T] float32 features of a validated waveform (F = 161 for ds2, (2C+1) * 161 for ds1)."""
    spec = ds2_spectrogram(wav, cfg.sample_rate, window_size=cfg.window_size, window_stride=cfg.window_stride,
                           normalize=cfg.normalize)
    if arch == "ds1":
        spec = stack_context(spec, cfg.context)
    return torch.from_numpy(np.ascontiguousarray(spec, dtype=np.float32))


def pad_features(features: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack [F, T_i] tensors into a zero-padded [B, F, T_max] batch and their lengths [B]."""
    lengths = torch.tensor([f.shape[-1] for f in features], dtype=torch.long)
    batch = features[0].new_zeros(len(features), features[0].shape[0], int(lengths.max()))
    for i, f in enumerate(features):
        batch[i, :, : f.shape[-1]] = f
    return batch, lengths
