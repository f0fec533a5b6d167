"""LibriTTS: reader, 24 kHz -> 22050 Hz conversion, and Flowtron-style ``path|text|speaker`` filelists.

On disk: ``LibriTTS/<subset>/<speaker>/<chapter>/<speaker>_<chapter>_<para>_<sent>.wav`` (24 kHz) with
``.normalized.txt`` and ``.original.txt`` beside each wav (one line, no newline) and a per-chapter
``<speaker>_<chapter>.trans.tsv`` (``id<TAB>original<TAB>normalised``).

The Tacotron-family models run at 22050 Hz, so preparation writes a resampled copy of the tree under
``LibriTTS_22k/`` (same relative paths) instead of resampling inside the data loader. The Flowtron
recipe keeps speakers with at least 5 minutes of audio and clips shorter than 10 s; val utterances
come from speakers that stay in train, because the speaker table is built from the training list.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from ninerepro.audio.io import load_wav, resample, save_wav
from ninerepro.data.datasets.corpus import CorpusItem, check_audio_file, read_single_line, require_dir
from ninerepro.data.filelists import DataFormatError, FilelistEntry, write_filelist

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
TARGET_SAMPLE_RATE = 22050
SUBSETS = ("dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100", "train-clean-360",
           "train-other-500")
VAL_FRACTION = 179 / 20112  # Flowtron's LibriTTS lists: 19,933 train + 179 val
_UTT_ID = re.compile(r"^(\d+)_(\d+)_\d+_\d+$")


def read_libritts(
    root: str | os.PathLike, subsets: Sequence[str] | None = None, *, check_audio: bool = False
) -> list[CorpusItem]:
    """Read utterances (wav + ``.normalized.txt`` + ``.original.txt``) of ``subsets`` under ``root`` (``LibriTTS/``).

    Utterances are found by their wav files, so the usual error is a missing or empty transcript;
    ``check_audio`` also opens each wav header to catch empty or corrupt files.
    """
    root = require_dir(root, "the LibriTTS folder holding subsets such as train-clean-100/",
                       "Run `python -m ninerepro.data.prepare libritts --root data` or pass the extracted folder.")
    if subsets is None:
        subsets = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    items: list[CorpusItem] = []
    for subset in subsets:
        folder = require_dir(root / subset, f"LibriTTS subset {subset}", "Download or extract that subset.")
        for wav in sorted(folder.glob("*/*/*.wav")):
            match = _UTT_ID.match(wav.stem)
            if match is None or match.groups() != (wav.parent.parent.name, wav.parent.name):
                raise DataFormatError(f"{wav}: file name does not follow <speaker>_<chapter>_<para>_<sent>.wav "
                                      "for its folder")
            text = read_single_line(wav.with_suffix(".normalized.txt"), "normalised transcript")
            original = read_single_line(wav.with_suffix(".original.txt"), "original transcript")
            if check_audio:
                check_audio_file(wav, str(wav))
            items.append(CorpusItem(wav, text, match.group(1), wav.stem, original, subset))
    return items


def resample_tree(items: Sequence[CorpusItem], root: Path, out_root: Path, sr: int = TARGET_SAMPLE_RATE) -> dict:
    """Write each item's audio at ``sr`` under ``out_root`` (same relative path); existing outputs are kept.

    Returns {utt_id: (new path, duration in s)}. Resumable: a rerun skips files already converted (each
    is written atomically, so a present file is a complete one).
    """
    converted: dict[str, tuple[Path, float]] = {}
    for item in tqdm(items, desc=f"resample to {sr} Hz", unit="utt"):
        target = out_root / item.audio_path.relative_to(root)
        if not target.is_file():
            wav, orig_sr = load_wav(item.audio_path)
            save_wav(target, resample(wav, orig_sr, sr), sr)
        converted[item.utt_id] = (target, sf.info(str(target)).frames / sr)
    return converted


def _val_split(items: Sequence[CorpusItem], fraction: float, seed: int) -> tuple[list, list]:
    """Pick ~fraction of items for val, never a speaker's last training utterance."""
    remaining = Counter(item.speaker for item in items)
    wanted = max(1, round(len(items) * fraction))
    order = np.random.default_rng(seed).permutation(len(items))
    val_ids: set[str] = set()
    for index in order:
        item = items[int(index)]
        if len(val_ids) == wanted:
            break
        if remaining[item.speaker] > 1:
            remaining[item.speaker] -= 1
            val_ids.add(item.utt_id)
    return [i for i in items if i.utt_id not in val_ids], [i for i in items if i.utt_id in val_ids]


def prepare_libritts(
    root: str | os.PathLike, subsets: Sequence[str], out_root: str | os.PathLike, filelist_dir: str | os.PathLike,
    *, min_speaker_minutes: float = 5.0, max_seconds: float = 10.0, seed: int = 1234,
) -> list[Path]:
    """Resample ``subsets`` to 22050 Hz under ``out_root`` and write train/val ``path|text|speaker`` lists."""
    root, out_root = Path(root), Path(out_root)
    items = sorted(read_libritts(root, subsets), key=lambda item: item.utt_id)
    converted = resample_tree(items, root, out_root)
    minutes: dict[str, float] = defaultdict(float)
    for item in items:
        minutes[item.speaker] += converted[item.utt_id][1] / 60
    kept = [i for i in items if minutes[i.speaker] >= min_speaker_minutes and converted[i.utt_id][1] < max_seconds]
    if len(kept) < 2:
        raise ValueError(f"{root}: only {len(kept)} utterances pass the filters (speaker >= {min_speaker_minutes} "
                         f"min, clip < {max_seconds} s); lower --min-speaker-minutes for a small corpus")
    train, val = _val_split(kept, VAL_FRACTION, seed)
    name = "libritts_" + "_".join(s.replace("-", "_") for s in subsets)
    written = []
    for split, split_items in (("train", train), ("val", val)):
        entries = [FilelistEntry(str(converted[i.utt_id][0]), i.text, i.speaker) for i in split_items]
        written.append(write_filelist(Path(filelist_dir) / f"{name}_audiopath_text_sid_{split}_filelist.txt", entries))
        log.info("LibriTTS %s: %d utterances, %d speakers", split, len(entries), len({i.speaker for i in split_items}))
    return written
