"""Training data for WaveGlow: fixed-length audio crops and the mel spectrogram of each crop.

WaveGlow learns p(audio | mel) on short windows (16000 samples in the official recipe), so every clip
is cut to ``segment_length`` samples (a random window for training, a fixed one for validation; clips
that are shorter are zero-padded at the end) and the mel is computed from that very window, on the fly,
with the Tacotron 2 front end of ``ninerepro.audio``. Crops all have the same length, so batches need no
padding and no length bucketing.

Crops are drawn from a generator seeded by (seed, epoch, clip index) rather than from a worker's global
RNG: the same batch then holds the same crops whether it is produced by worker 0 or 3, in one process or
on rank 2 of 8, and in a run that was interrupted and resumed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, Dataset

from ninerepro.audio import SampleRateError, TacotronSTFT, load_wav
from ninerepro.data.filelists import DataFormatError, numbered_lines
from ninerepro.data.sampler import BucketBatchSampler
from waveglow.config import WaveGlowDataConfig, WaveGlowModelConfig

log = logging.getLogger(__name__)

# A dataset key: a clip index (validation: fixed crop) or (clip index, epoch) (training: random crop).
CropKey = int | tuple[int, int]


def read_audio_list(path: str | os.PathLike) -> list[Path]:
    """Audio paths from a filelist: ``path|text[|speaker]`` lines or bare paths, one per line.

    The first ``|`` field is the audio path (the Tacotron 2 / Flowtron filelists work unchanged).
    Relative paths are taken from the current directory, as the official scripts do. Every path is
    checked here, so a typo fails at start-up with the file and line, not in a worker hours later.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: filelist not found; set data.training_files (or pass -f) to a filelist "
                                "made by `python -m ninerepro.data.prepare ljspeech --root data`")
    paths: list[Path] = []
    for number, line in numbered_lines(path):
        audio = Path(line.split("|", 1)[0].strip())
        if not audio.is_file():
            raise DataFormatError(f"{path}:{number}: audio file {audio} does not exist; fix the path or drop the line")
        paths.append(audio)
    if not paths:
        raise DataFormatError(f"{path}: the filelist is empty; it needs at least one audio path")
    return paths


def check_sample_rates(paths: Sequence[Path], sampling_rate: int, source: str | os.PathLike) -> None:
    """Read every header once (cheap) so a clip at the wrong rate fails at start-up, naming the file."""
    for path in paths:
        try:
            rate = sf.info(str(path)).samplerate
        except (sf.LibsndfileError, RuntimeError) as err:
            raise DataFormatError(f"{path} (listed in {source}): cannot read the audio header ({err})") from None
        if rate != sampling_rate:
            raise SampleRateError(f"{path} (listed in {source}): sample rate is {rate} Hz but data.sampling_rate is "
                                  f"{sampling_rate} Hz; resample the corpus first "
                                  f"(ninerepro.audio.resample) or fix the "
                                  "config")


def check_mel_settings(data: WaveGlowDataConfig, model: WaveGlowModelConfig) -> None:
    """Refuse data settings that the model or the mel front end cannot honour, naming the config key.

    The model's upsampler turns one mel frame into ``upsample_stride`` samples and squeezes ``n_group``
    samples per vector, so the hop and the crop length are tied to it; a mel band above Nyquist is empty.
    """
    if data.hop_length != model.upsample_stride or data.filter_length != model.upsample_kernel:
        raise ValueError(f"data.hop_length/filter_length ({data.hop_length}/{data.filter_length}) differ from the "
                         f"model upsampler ({model.upsample_stride}/{model.upsample_kernel}); mels made with other "
                         "STFT settings would be misaligned with the audio. Set them equal.")
    if data.segment_length % model.n_group != 0:
        raise ValueError(f"data.segment_length={data.segment_length} is not a multiple of model.n_group="
                         f"{model.n_group}; the squeeze needs whole groups (e.g. 16000 for n_group 8)")
    if not 0.0 <= data.mel_fmin < data.mel_fmax <= data.sampling_rate / 2:
        raise ValueError(f"data.mel_fmin/mel_fmax ({data.mel_fmin}/{data.mel_fmax}) must satisfy 0 <= fmin < fmax "
                         f"<= sampling_rate/2 = {data.sampling_rate / 2}")
    if data.segment_length < data.filter_length // 2 + 1:
        raise ValueError(f"data.segment_length={data.segment_length} is shorter than half an STFT window "
                         f"({data.filter_length // 2 + 1} samples); the centred STFT cannot frame it")


def build_mel_extractor(data: WaveGlowDataConfig, model: WaveGlowModelConfig) -> TacotronSTFT:
    """The Tacotron 2 log-mel module with the config's settings (checked first)."""
    check_mel_settings(data, model)
    return TacotronSTFT(data.filter_length, data.hop_length, data.win_length, model.n_mel_channels,
                        data.sampling_rate, data.mel_fmin, data.mel_fmax)


class MelAudioCrops(Dataset):
    """(mel [n_mel, frames], audio [segment_length]) pairs cut from the clips of a filelist.

    Keys are ``(index, epoch)`` for a random crop (what :class:`EpochTaggedBatchSampler` yields) or a
    plain ``index`` for the fixed crop used in validation: the middle of the clip.
    """

    def __init__(self, paths: Sequence[str | os.PathLike], data: WaveGlowDataConfig, model: WaveGlowModelConfig,
                 *, seed: int = 1234) -> None:
        if not paths:
            raise ValueError("MelAudioCrops got no audio files; check the filelist")
        self.paths = [Path(p) for p in paths]
        self.cfg = data
        self.seed = seed
        self.mel_fn = build_mel_extractor(data, model)

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, index: int) -> np.ndarray:
        """The whole clip as float32 in [-1, 1]; a wrong sample rate raises ninerepro.audio's SampleRateError."""
        wav, _ = load_wav(self.paths[index], sr=self.cfg.sampling_rate)
        return wav

    def crop_start(self, key: CropKey, n_samples: int) -> int:
        """First sample of the crop: seeded by (seed, epoch, index) when training, the centre otherwise."""
        spare = n_samples - self.cfg.segment_length
        if spare <= 0:
            return 0
        if isinstance(key, int):
            return spare // 2
        index, epoch = key
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch * 100_003 + index)
        return int(torch.randint(0, spare + 1, (1,), generator=g))

    def __getitem__(self, key: CropKey) -> tuple[torch.Tensor, torch.Tensor]:
        index = key if isinstance(key, int) else key[0]
        wav = self.load(index)
        start = self.crop_start(key, len(wav))
        segment = torch.zeros(self.cfg.segment_length)
        piece = torch.from_numpy(wav[start : start + self.cfg.segment_length])
        segment[: len(piece)] = piece  # zero-pad a short clip at the end, as mel2samp.py does
        with torch.no_grad():
            mel = self.mel_fn.mel_spectrogram(segment)  # [n_mel, 1 + segment_length // hop]
        return mel, segment


def collate_crops(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack equal-length crops: mel [B, n_mel, frames], audio [B, segment_length]."""
    mels, audio = zip(*items)
    return torch.stack(mels), torch.stack(audio)


class EpochTaggedBatchSampler(BucketBatchSampler):
    """A BucketBatchSampler whose batches carry the epoch: ``[(index, epoch), ...]``.

    The dataset needs the epoch to draw a fresh crop each epoch deterministically (see module docstring).
    Position, epoch and resume behave exactly as in the parent class.
    """

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:  # type: ignore[override]
        epoch = self.epoch
        for batch in super().__iter__():
            yield [(index, epoch) for index in batch]


def train_loader(dataset: MelAudioCrops, batch_size: int, *, rank: int = 0, world_size: int = 1, seed: int = 1234,
                 num_workers: int = 0) -> DataLoader:
    """Shuffled batches of random crops for one rank (every rank sees a distinct slice of each global batch)."""
    sampler = EpochTaggedBatchSampler(None, batch_size, num_items=len(dataset), num_replicas=world_size, rank=rank,
                                      seed=seed, drop_last=False)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_crops, num_workers=num_workers,
                      persistent_workers=num_workers > 0)


def val_loader(dataset: MelAudioCrops, batch_size: int) -> DataLoader:
    """Fixed crops in filelist order, so validation NLL is comparable between evaluations."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_crops)
