"""Mellotron's data: ``path|text|speaker`` filelists -> (symbol ids, log-mel, speaker index, F0) per clip.

Faithful to NVIDIA/mellotron ``data_utils.py``: the speaker table maps the *training* list's raw ids, sorted as
strings (``ninerepro.data.filelists.speaker_table``), to 0..N-1 (validation and inference must reuse it, so it is saved
with every model); text goes through Mellotron's own text path with CMUdict at p_arpabet 1.0; the mel is the
Tacotron 2 front end; F0 is YIN with frames of 1024, hop 256, 80-880 Hz, threshold 0.25, one value per mel frame
(0 = unvoiced). Batches are sorted by text length (longest first) and zero-padded; the gate target is 1 from each
clip's last frame on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from mellotron.config import MellotronDataConfig
from ninerepro.audio.io import load_wav
from ninerepro.audio.mel import tacotron_mel
from ninerepro.audio.pitch import yin
from ninerepro.data.filelists import FLOWTRON_FIELDS, DataFormatError, FilelistEntry, read_filelist
from ninerepro.text.cmudict import CMUDict, load_cmudict
from ninerepro.text.mellotron_compat import mellotron_text_to_sequence
from ninerepro.tts.loss import gate_targets


def read_mellotron_list(path: str | Path, audio_root: str | Path | None = None) -> list[FilelistEntry]:
    return read_filelist(path, FLOWTRON_FIELDS, check_audio=True, audio_root=audio_root)


class TextToIds:
    """Mellotron's text front end: with p_arpabet 1 (official) every CMUdict word becomes phones; with 0 the text
    is only cleaned. (Fractional values are refused by the config: the official code drops unconverted words.)"""

    def __init__(self, cleaners: Sequence[str], p_arpabet: float = 1.0, dictionary: CMUDict | None = None):
        self.cleaners, self.use_dictionary = tuple(cleaners), p_arpabet >= 1.0
        self.dictionary = (dictionary if dictionary is not None else load_cmudict(keep_ambiguous=True)) \
            if self.use_dictionary else None

    def __call__(self, text: str) -> list[int]:
        ids = mellotron_text_to_sequence(text, self.cleaners, self.dictionary, use_dictionary=self.use_dictionary)
        if not ids:
            raise DataFormatError(f"text {text!r} gives no symbols: it holds nothing Mellotron can pronounce")
        return ids


def f0_contour(wav: np.ndarray, cfg: MellotronDataConfig, frames: int) -> np.ndarray:
    """YIN F0 in Hz per mel frame, [frames] (cut or zero-padded to the mel's length)."""
    f0, _ = yin(wav, cfg.sampling_rate, frame_length=cfg.filter_length, hop_length=cfg.hop_length,
                fmin=cfg.f0_min, fmax=cfg.f0_max, threshold=cfg.harm_thresh)
    out = np.zeros(frames, dtype=np.float32)
    out[: min(frames, len(f0))] = f0[:frames]
    return out


def mel_and_f0(path: str | Path, cfg: MellotronDataConfig) -> tuple[Tensor, Tensor]:
    """(log-mel [80, T], F0 [1, T]) of one wav at ``cfg.sampling_rate`` (another rate is an error)."""
    wav, sr = load_wav(path, cfg.sampling_rate)
    mel = torch.from_numpy(tacotron_mel(wav, sr, n_mels=cfg.n_mel_channels, fmin=cfg.mel_fmin, fmax=cfg.mel_fmax))
    return mel, torch.from_numpy(f0_contour(wav, cfg, mel.shape[1]))[None]


@dataclass
class Item:
    text: Tensor  # [L] long
    mel: Tensor  # [80, T]
    speaker: int
    f0: Tensor  # [1, T]


class MellotronDataset(Dataset):
    """Clips of a filelist; features are computed on access, or once up front with ``preload`` (small data)."""

    def __init__(self, entries: Sequence[FilelistEntry], cfg: MellotronDataConfig, speakers: dict[str, int],
                 text_to_ids: TextToIds | None = None, audio_root: str | Path | None = None, preload: bool = False):
        unknown = sorted({e.speaker for e in entries} - set(speakers), key=str)
        if unknown:
            raise DataFormatError(f"speaker id(s) {unknown[:5]} are not in the training speaker table "
                                  f"({len(speakers)} speakers): validation clips must come from training speakers")
        self.entries, self.cfg, self.speakers = list(entries), cfg, speakers
        self.root = Path(audio_root) if audio_root is not None else None
        self.text_to_ids = text_to_ids or TextToIds(cfg.text_cleaners, cfg.p_arpabet)
        self._items = [self._load(i) for i in range(len(self.entries))] if preload else None

    def _path(self, entry: FilelistEntry) -> Path:
        p = Path(entry.path)
        return p if self.root is None or p.is_absolute() else self.root / p

    def _load(self, index: int) -> Item:
        entry = self.entries[index]
        mel, f0 = mel_and_f0(self._path(entry), self.cfg)
        text = torch.tensor(self.text_to_ids(entry.text), dtype=torch.long)
        return Item(text, mel, self.speakers[entry.speaker], f0)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Item:
        return self._items[index] if self._items is not None else self._load(index)


@dataclass
class Batch:
    text: Tensor  # [B, L] long, 0-padded
    text_lengths: Tensor  # [B]
    mel: Tensor  # [B, 80, T]
    gate: Tensor  # [B, T]
    output_lengths: Tensor  # [B]
    speaker_ids: Tensor  # [B]
    f0: Tensor  # [B, 1, T]


def collate(items: Sequence[Item]) -> Batch:
    """Sorted by text length, longest first (the official collate), and zero-padded."""
    items = sorted(items, key=lambda it: len(it.text), reverse=True)
    B, L, T = len(items), len(items[0].text), max(it.mel.shape[1] for it in items)
    text = torch.zeros(B, L, dtype=torch.long)
    mel = torch.zeros(B, items[0].mel.shape[0], T)
    f0 = torch.zeros(B, 1, T)
    for b, it in enumerate(items):
        text[b, : len(it.text)] = it.text
        mel[b, :, : it.mel.shape[1]] = it.mel
        f0[b, :, : it.f0.shape[1]] = it.f0
    text_lengths = torch.tensor([len(it.text) for it in items])
    output_lengths = torch.tensor([it.mel.shape[1] for it in items])
    return Batch(text, text_lengths, mel, gate_targets(output_lengths, T), output_lengths,
                 torch.tensor([it.speaker for it in items]), f0)
