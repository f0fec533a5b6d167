"""Mellotron's inference modes, as functions over a loaded model (the CLI and the demo call these).

* :func:`speak`: text in a training speaker's voice, style from a GST token index or a reference recording;
  no pitch is given (F0 zeros, the official way to run without a reference, NVIDIA/mellotron #4).
* :func:`transfer`: rhythm, and optionally pitch, from a source recording with its transcript. The model
  aligns the source itself (a teacher-forced pass is a forced aligner), then synthesises with that alignment;
  the source's F0 may be moved to another speaker's median.
* :func:`sing`: text, rhythm and pitch from a MusicXML score (``mellotron.musicxml``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from mellotron.config import MellotronDataConfig
from mellotron.data import TextToIds, mel_and_f0
from mellotron.model import Mellotron, MellotronInputError
from ninerepro.text.sequence import UnknownSymbolWarning


@dataclass
class Synthesis:
    mel: Tensor  # [1, 80, T] after the postnet
    alignment: Tensor  # [T, L]
    f0: Tensor  # [1, 1, T] the F0 that conditioned it (zeros when none)


def text_ids(text: str, text_to_ids: TextToIds | None = None) -> Tensor:
    """[1, L] symbol ids; a character the 185-symbol table lacks is an error here, not a silent drop."""
    if not text.strip():
        raise MellotronInputError("the text is empty: give a sentence to synthesise")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownSymbolWarning)
        ids = (text_to_ids or TextToIds(["english_cleaners"]))(text)
    unknown = [str(w.message).split(" is not in")[0] for w in caught if issubclass(w.category, UnknownSymbolWarning)]
    if unknown:
        raise MellotronInputError(f"{', '.join(sorted(set(unknown)))} of {text!r} cannot be spoken: outside "
                                  "Mellotron's symbol table; respell it or write it as ARPAbet in {braces}")
    return torch.tensor([ids], dtype=torch.long)


def reference(path: str | Path, data: MellotronDataConfig) -> tuple[Tensor, Tensor]:
    """(mel [1, 80, T], F0 [1, 1, T]) of a recording at ``data.sampling_rate`` (another rate is an error)."""
    mel, f0 = mel_and_f0(path, data)
    return mel[None], f0[None]


def speaker_tensor(model: Mellotron, index: int) -> Tensor:
    ids = torch.tensor([index])
    model.check_speakers(ids)
    return ids


@torch.no_grad()
def speak(model: Mellotron, text: Tensor, speaker: int, style: Tensor | int, max_frames: int | None = None,
          gate_threshold: float | None = None) -> Synthesis:
    max_frames = max_frames or model.cfg.max_decoder_steps
    f0 = torch.zeros(1, 1, max_frames)
    _, mel, _, align = model.inference(text, style, speaker_tensor(model, speaker), f0, gate_threshold, max_frames)
    return Synthesis(mel, align[0], f0[:, :, : mel.shape[2]])


@torch.no_grad()
def source_alignment(model: Mellotron, text: Tensor, mel: Tensor, f0: Tensor, speaker: int) -> Tensor:
    """The attention of a teacher-forced pass over the source: [T, 1, L], the official rhythm layout."""
    lengths = torch.tensor([text.shape[1]])
    _, _, _, align = model(text, lengths, mel, torch.tensor([mel.shape[2]]), speaker_tensor(model, speaker), f0)
    return align.permute(1, 0, 2)


def shift_to_median(f0: Tensor, target_median_hz: float) -> Tensor:
    """Scale voiced frames so their median is ``target_median_hz`` (a speaker's typical pitch); 0 stays 0."""
    voiced = f0[f0 > 0]
    if voiced.numel() == 0:
        raise MellotronInputError("the source has no voiced frames: pitch cannot be transferred")
    return f0 * (target_median_hz / float(voiced.median()))


@torch.no_grad()
def transfer(model: Mellotron, text: Tensor, source_mel: Tensor, source_f0: Tensor, source_speaker: int,
             target_speaker: int, with_pitch: bool = True, pitch_median_hz: float | None = None,
             style: Tensor | int | None = None) -> Synthesis:
    """Rhythm (and pitch) of the source, voice of ``target_speaker``; style defaults to the source's own mel."""
    rhythm = source_alignment(model, text, source_mel, source_f0, source_speaker)
    f0 = source_f0 if with_pitch else torch.zeros_like(source_f0)
    if with_pitch and pitch_median_hz:
        f0 = shift_to_median(f0, pitch_median_hz)
    _, mel, _, align = model.inference_noattention(text, source_mel if style is None else style,
                                                   speaker_tensor(model, target_speaker), f0, rhythm)
    return Synthesis(mel, align[0], f0)


@torch.no_grad()
def sing(model: Mellotron, score: dict[str, dict[str, Tensor]], speakers: dict[str, int], style: Tensor | int,
         frequency_scaling: float = 1.0) -> dict[str, Synthesis]:
    """One synthesis per part of a score read by ``mellotron.musicxml.read_score``."""
    out = {}
    for part, data in score.items():
        f0 = data["pitch_contour"] * frequency_scaling
        _, mel, _, align = model.inference_noattention(data["text_encoded"], style,
                                                       speaker_tensor(model, speakers[part]), f0, data["rhythm"])
        out[part] = Synthesis(mel, align[0], f0)
    return out


def mix(waves: list[np.ndarray]) -> np.ndarray:
    """Sum parts (zero-padded to the longest) and peak-normalise."""
    n = max(len(w) for w in waves)
    total = np.zeros(n, dtype=np.float32)
    for w in waves:
        total[: len(w)] += w
    return total / max(1e-8, float(np.abs(total).max()))
