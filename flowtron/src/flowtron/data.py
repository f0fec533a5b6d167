"""Flowtron's data: ``path|text|speaker`` filelists -> (log-mel, speaker row, symbol ids, attention prior).

Faithful to NVIDIA/flowtron ``data.py``: the speaker table maps the training list's raw ids, sorted as strings, to
rows (``ninerepro.data.filelists.speaker_table``; saved with every checkpoint); text goes through ``flowtron_cleaners``
and each CMUdict word (ambiguous ones dropped) is spelled in ARPAbet with probability ``p_arpabet`` (0.5), drawn
anew on every access, so the model sees both spellings; the mel is the Tacotron 2 front end at 22050 Hz; the
beta-binomial prior is computed per item for the drawn text length. Batches are sorted by text length (longest
first), zero-padded, and carry gate targets (1 from each last frame on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from flowtron.attention_prior import beta_binomial_prior
from flowtron.config import DataConfig
from ninerepro.audio.io import load_wav
from ninerepro.audio.mel import tacotron_mel
from ninerepro.data.filelists import FLOWTRON_FIELDS, DataFormatError, FilelistEntry, read_filelist
from ninerepro.text.cmudict import CMUDict, load_cmudict
from ninerepro.text.sequence import text_to_sequence
from ninerepro.tts.loss import gate_targets


def read_flowtron_list(path: str | Path, audio_root: str | Path | None = None) -> list[FilelistEntry]:
    return read_filelist(path, FLOWTRON_FIELDS, check_audio=True, audio_root=audio_root)


class TextToIds:
    """Flowtron's text front end; ``rng`` draws the per-word ARPAbet choice (p_arpabet 0 or 1 draws nothing).
    ``strict``: a character outside the symbol table is an error naming it (synthesis), not a dropped warning."""

    def __init__(self, cleaners: Sequence[str], p_arpabet: float = 0.5, keep_ambiguous: bool = False,
                 dictionary: CMUDict | None = None, strict: bool = False):
        self.cleaners, self.p_arpabet, self.strict = tuple(cleaners), p_arpabet, strict
        self.dictionary = dictionary if dictionary is not None else load_cmudict(keep_ambiguous=keep_ambiguous)

    def __call__(self, text: str, rng: np.random.Generator | None = None) -> list[int]:
        ids = text_to_sequence(text, self.cleaners, "flowtron", p_arpabet=self.p_arpabet,
                               rng=rng if rng is not None else np.random.default_rng(0), dictionary=self.dictionary,
                               strict=self.strict)
        if not ids:
            raise DataFormatError(f"text {text!r} gives no symbols: it holds nothing Flowtron can pronounce")
        return ids


FRONT_END_HOP = 256
"""hop of the shared Tacotron 2 front end (``ninerepro.audio.mel.tacotron_mel``) and of the vocoders"""


def hop_stride(cfg: DataConfig) -> int:
    """``data.hop_length`` as a multiple of the front end's 256-sample hop (another value is an error)."""
    if cfg.hop_length < FRONT_END_HOP or cfg.hop_length % FRONT_END_HOP:
        raise ValueError(f"data.hop_length={cfg.hop_length}: must be a multiple of {FRONT_END_HOP} (256, 512, ...)")
    return cfg.hop_length // FRONT_END_HOP


FRAMES_PER_SYMBOL = 8
"""the synthesis frame cap's rule of thumb (the maintainers'): 8 frames per text symbol at the 256 hop"""


def frame_cap(n_symbols: int, hop_length: int) -> int:
    """Default number of frames to generate for ``n_symbols`` symbols at ``hop_length``: ``FRAMES_PER_SYMBOL``
    frames per symbol at the front end's 256 hop, i.e. a fixed length of *audio* per symbol (8 x 256 samples,
    93 ms at 22050 Hz), converted to the model's frame rate and rounded up. Used by ``flowtron-synthesize`` and
    the demo alike, so a hop-512 checkpoint gets the same maximum duration (4 frames per symbol) from both; a
    cap of 8 frames per symbol at hop 512 would allow twice the audio the rule means."""
    if n_symbols < 1:
        raise ValueError(f"frame_cap needs at least one symbol, got {n_symbols}")
    stride = hop_stride(DataConfig(hop_length=hop_length))
    return -(-FRAMES_PER_SYMBOL * n_symbols // stride)


def load_mel(path: str | Path, cfg: DataConfig) -> Tensor:
    """log-mel [n_mel, T] of one wav at ``cfg.sampling_rate`` (another rate is an error naming the file).

    ``cfg.hop_length`` = k x 256 keeps every k-th frame of the 256-hop mel: with centred frames and the same window
    that is exactly the STFT at hop k x 256 (frame i is centred on sample i x hop either way). Only the CPU demo
    uses k > 1 (fewer frames per clip); the official configs all use 256."""
    wav, sr = load_wav(path, cfg.sampling_rate)
    mel = torch.from_numpy(tacotron_mel(wav, sr, n_mels=cfg.n_mel_channels, fmin=cfg.mel_fmin, fmax=cfg.mel_fmax))
    stride = hop_stride(cfg)
    return mel[:, ::stride].contiguous() if stride > 1 else mel


def to_vocoder_frames(mel: Tensor, cfg: DataConfig) -> Tensor:
    """mel [..., n_mel, T] at ``cfg.hop_length`` -> the 256-hop frame rate the vocoders expect (linear
    interpolation in time of the log-mel; the identity at hop 256)."""
    stride = hop_stride(cfg)
    if stride == 1:
        return mel
    flat = mel.reshape(-1, *mel.shape[-2:]).float()
    up = torch.nn.functional.interpolate(flat, size=(flat.shape[-1] - 1) * stride + 1, mode="linear",
                                         align_corners=True)
    return up.reshape(*mel.shape[:-1], up.shape[-1])


@dataclass
class Item:
    mel: Tensor  # [n_mel, T]
    speaker: int
    text: Tensor  # [L] long
    prior: Tensor | None  # [T, L]


class FlowtronDataset(Dataset):
    """Clips of a filelist. Mels are computed on access, or once up front with ``preload`` (small data); the
    text (and so the prior) is drawn on every access, as in the official loader."""

    def __init__(self, entries: Sequence[FilelistEntry], cfg: DataConfig, speakers: dict[str, int],
                 text_to_ids: TextToIds | None = None, audio_root: str | Path | None = None, preload: bool = False,
                 seed: int | None = None):
        unknown = sorted({e.speaker for e in entries} - set(speakers), key=str)
        if unknown:
            raise DataFormatError(f"speaker id(s) {unknown[:5]} are not in the training speaker table "
                                  f"({len(speakers)} speakers): validation clips must come from training speakers")
        self.entries, self.cfg, self.speakers = list(entries), cfg, speakers
        self.root = Path(audio_root) if audio_root is not None else None
        self.text_to_ids = text_to_ids or TextToIds(cfg.text_cleaners, cfg.p_arpabet, cfg.keep_ambiguous)
        self.rng = np.random.default_rng(cfg.seed if seed is None else seed)
        self._mels = [self._mel(i) for i in range(len(self.entries))] if preload else None

    def _mel(self, index: int) -> Tensor:
        p = Path(self.entries[index].path)
        return load_mel(p if self.root is None or p.is_absolute() else self.root / p, self.cfg)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Item:
        entry = self.entries[index]
        mel = self._mels[index] if self._mels is not None else self._mel(index)
        text = torch.tensor(self.text_to_ids(entry.text, self.rng), dtype=torch.long)
        prior = None
        if self.cfg.use_attn_prior:
            prior = beta_binomial_prior(len(text), mel.shape[1], self.cfg.betab_scaling_factor,
                                        self.cfg.attn_prior_threshold)
        return Item(mel, self.speakers[entry.speaker], text, prior)


@dataclass
class Batch:
    mel: Tensor  # [B, n_mel, T]
    speaker_ids: Tensor  # [B]
    text: Tensor  # [B, L] 0-padded
    in_lens: Tensor  # [B]
    out_lens: Tensor  # [B]
    gate: Tensor  # [B, T]
    attn_prior: Tensor | None  # [B, T, L]


def collate(items: Sequence[Item]) -> Batch:
    """Sorted by text length, longest first (the official ``DataCollate``), and zero-padded."""
    items = sorted(items, key=lambda it: len(it.text), reverse=True)
    B, L, T = len(items), len(items[0].text), max(it.mel.shape[1] for it in items)
    text = torch.zeros(B, L, dtype=torch.long)
    mel = torch.zeros(B, items[0].mel.shape[0], T)
    prior = torch.zeros(B, T, L) if items[0].prior is not None else None
    for b, it in enumerate(items):
        text[b, : len(it.text)] = it.text
        mel[b, :, : it.mel.shape[1]] = it.mel
        if prior is not None:
            prior[b, : it.prior.shape[0], : it.prior.shape[1]] = it.prior
    out_lens = torch.tensor([it.mel.shape[1] for it in items])
    return Batch(mel, torch.tensor([it.speaker for it in items]), text, torch.tensor([len(it.text) for it in items]),
                 out_lens, gate_targets(out_lens, T), prior)


__all__ = ["FRAMES_PER_SYMBOL", "Batch", "FlowtronDataset", "Item", "TextToIds", "collate", "frame_cap",
           "hop_stride", "load_mel",
           "read_flowtron_list", "to_vocoder_frames"]
