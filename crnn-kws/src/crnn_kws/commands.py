"""Google Speech Commands v2, 12 classes: the ten commands, ``_silence_`` and ``_unknown_`` (spec §6).

Splits follow the official SHA-1 rule (``ninerepro.data.datasets.speech_commands.which_set``), so all clips of a
speaker land in one split. The class mix is TensorFlow's reference recipe: silence and unknown are 10 % each
of a split, unknown clips are the other 25 words, silence is a 1 s slice of ``_background_noise_``. Training
windows get a random shift of up to 100 ms and, 80 % of the time, background noise at a volume up to 0.1; test
windows are the clips as recorded. Each 1 s clip is centred in the model's window (1.5 s for arik2017).

Clips are read from disk per window (105k clips are 6.7 GB as float32), so memory stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from crnn_kws.config import DataConfig, FeatureConfig
from ninerepro.audio import load_wav
from ninerepro.data.datasets.speech_commands import COMMANDS, background_noise_files, read_speech_commands, which_set
from ninerepro.data.filelists import DataFormatError

LABELS = (*COMMANDS, "_silence_", "_unknown_")
SILENCE, UNKNOWN = LABELS.index("_silence_"), LABELS.index("_unknown_")
SPLITS = {"training": "train", "validation": "validation", "testing": "test"}
SILENCE_SHARE = UNKNOWN_SHARE = 0.1  # of a split, TF train.py --silence_percentage / --unknown_percentage
BACKGROUND_SHARE, BACKGROUND_VOLUME = 0.8, 0.1  # TF --background_frequency / --background_volume
SHIFT_S = 0.1  # TF --time_shift_ms 100
CLIP_S = 1.0


@dataclass
class CommandsSplit:
    """One split: (path, label) of every known and unknown clip, and the background noise recordings."""

    known: list[tuple[Path, int]]
    unknown: list[Path]
    noises: list[np.ndarray]

    @classmethod
    def load(cls, root: str | Path, split: str, sr: int) -> CommandsSplit:
        """The ``split`` ("train", "validation", "test") of the Speech Commands folder ``root``."""
        if split not in SPLITS.values():
            raise ValueError(f"split must be one of {sorted(SPLITS.values())}, got {split!r}")
        items = read_speech_commands(root)
        mine = [i for i in items if SPLITS[which_set(i.audio_path.name)] == split]
        known = [(i.audio_path, COMMANDS.index(i.text)) for i in mine if i.text in COMMANDS]
        unknown = [i.audio_path for i in mine if i.text not in COMMANDS]
        noises = [load_wav(p, sr)[0] for p in background_noise_files(root)]
        if not known or not noises:
            raise DataFormatError(f"{root}: the {split} split has {len(known)} command clips and "
                                  f"{len(noises)} background files; need both (is this Speech Commands v2?)")
        return cls(known, unknown, noises)

    def counts(self) -> dict[str, int]:
        """Known clips, and the silence / unknown items a split of this size gets (10 % each)."""
        n_known = len(self.known)
        total = round(n_known / (1 - SILENCE_SHARE - UNKNOWN_SHARE))
        return {"known": n_known, "silence": round(total * SILENCE_SHARE),
                "unknown": min(len(self.unknown), round(total * UNKNOWN_SHARE))}


def clip_in_window(path: Path, sr: int, window: int, shift: int) -> np.ndarray:
    """A clip, zero-padded to 1 s, moved by ``shift`` samples and centred in ``window`` samples."""
    wav = load_wav(path, sr)[0][: round(CLIP_S * sr)]
    out = np.zeros(window, dtype=np.float32)
    start = (window - round(CLIP_S * sr)) // 2 + shift
    lo, hi = max(0, start), min(window, start + len(wav))
    if hi > lo:
        out[lo:hi] = wav[lo - start:hi - start]
    return out


def noise_slice(noises: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples from a random place in a random background recording."""
    noise = noises[int(rng.integers(len(noises)))]
    noise = np.tile(noise, -(-n // len(noise))) if len(noise) < n else noise
    start = int(rng.integers(0, len(noise) - n + 1))
    return noise[start:start + n].astype(np.float32)


class CommandsWindowDataset(Dataset):
    """Random labelled training windows in TF's class mix (an epoch is ``data.epoch_windows`` draws)."""

    def __init__(self, split: CommandsSplit, data: DataConfig, features: FeatureConfig) -> None:
        self.split, self.cfg, self.sr, self.n = split, data, features.sample_rate, features.window_samples
        counts = split.counts()
        total = counts["known"] + counts["silence"] + counts["unknown"]
        self.p_silence, self.p_unknown = counts["silence"] / total, counts["unknown"] / total

    def __len__(self) -> int:
        return self.cfg.epoch_windows

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
        s, n, u = self.split, self.n, rng.random()
        shift = int(rng.integers(-round(SHIFT_S * self.sr), round(SHIFT_S * self.sr) + 1))
        if u < self.p_silence:
            label, wav = SILENCE, np.zeros(n, dtype=np.float32)
        elif u < self.p_silence + self.p_unknown and s.unknown:
            label, wav = UNKNOWN, clip_in_window(s.unknown[int(rng.integers(len(s.unknown)))], self.sr, n, shift)
        else:
            path, label = s.known[int(rng.integers(len(s.known)))]
            wav = clip_in_window(path, self.sr, n, shift)
        if label == SILENCE or rng.random() < BACKGROUND_SHARE:
            wav = wav + noise_slice(s.noises, n, rng) * float(rng.uniform(0.0, BACKGROUND_VOLUME))
        return torch.from_numpy(np.clip(wav, -1.0, 1.0)), label


def evaluation_items(split: CommandsSplit, features: FeatureConfig, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """The fixed evaluation set: every known clip, 10 % unknown (a seeded draw), 10 % silence slices."""
    rng = np.random.default_rng([seed, 12])
    counts, sr, n = split.counts(), features.sample_rate, features.window_samples
    items = [(clip_in_window(p, sr, n, 0), label) for p, label in split.known]
    picked = rng.choice(len(split.unknown), counts["unknown"], replace=False) if split.unknown else []
    items += [(clip_in_window(split.unknown[int(i)], sr, n, 0), UNKNOWN) for i in picked]
    items += [(noise_slice(split.noises, n, rng) * float(rng.uniform(0.0, BACKGROUND_VOLUME)), SILENCE)
              for _ in range(counts["silence"])]
    return items


@torch.no_grad()
def evaluate_commands(model: torch.nn.Module, features: FeatureConfig, split: CommandsSplit,
                      batch: int = 256) -> dict:
    """12-class accuracy of ``model`` on ``split``'s fixed evaluation set, with per-class accuracy."""
    from crnn_kws.features import window_features

    items = evaluation_items(split, features)
    model.eval()
    predicted = []
    for i in range(0, len(items), batch):
        wav = np.stack([w for w, _ in items[i:i + batch]])
        predicted.append(model(window_features(wav, features)).argmax(-1).numpy())
    pred, truth = np.concatenate(predicted), np.array([label for _, label in items])
    per_class = {name: float(np.mean(pred[truth == k] == k)) for k, name in enumerate(LABELS) if np.any(truth == k)}
    return {"accuracy": float(np.mean(pred == truth)), "n": len(items), "per_class": per_class}
