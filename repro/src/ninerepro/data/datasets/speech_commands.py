"""Google Speech Commands: the SHA-1 split rule, a reader, and JSON-lines manifests per split.

On disk: ``<root>/<word>/<speaker hash>_nohash_<k>.wav`` (16 kHz, <= 1 s), ``_background_noise_/*.wav``,
and ``validation_list.txt`` / ``testing_list.txt`` listing ``<word>/<file>.wav`` paths; every other clip is
training data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

import soundfile as sf

from ninerepro.data.datasets.corpus import CorpusItem, check_audio_file, require_dir
from ninerepro.data.filelists import DataFormatError, numbered_lines
from ninerepro.data.manifests import write_manifest

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BACKGROUND_DIR = "_background_noise_"
SPLIT_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}
WORDS_V1 = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "zero", "one", "two", "three",
            "four", "five", "six", "seven", "eight", "nine", "bed", "bird", "cat", "dog", "happy", "house",
            "marvin", "sheila", "tree", "wow")
WORDS_V2 = (*WORDS_V1, "backward", "forward", "follow", "learn", "visual")
COMMANDS = WORDS_V1[:10]
_MAX_CLIPS_PER_CLASS = 2**27 - 1  # the constant of TensorFlow's speech_commands input_data.which_set
_NOHASH = re.compile(r"_nohash_.*$")


def which_set(filename: str, validation_percentage: float = 10.0, testing_percentage: float = 10.0) -> str:
    """The split ("training", "validation", "testing") TensorFlow's rule gives a clip.

    The SHA-1 of the file name without its ``_nohash_<k>`` suffix (i.e. of the speaker hash) is mapped to
    a percentage, so all clips of one speaker land in the same split and adding clips never moves one.
    """
    speaker = _NOHASH.sub("", os.path.basename(filename))
    digest = int(hashlib.sha1(speaker.encode("utf-8")).hexdigest(), 16)
    percentage = (digest % (_MAX_CLIPS_PER_CLASS + 1)) * (100.0 / _MAX_CLIPS_PER_CLASS)
    if percentage < validation_percentage:
        return "validation"
    if percentage < validation_percentage + testing_percentage:
        return "testing"
    return "training"


def _read_split_list(root: Path, name: str) -> dict[str, str]:
    """{relative path: where} for a split list; every listed clip must exist."""
    path = root / name
    listed: dict[str, str] = {}
    for number, line in numbered_lines(path):
        relative = line.strip()
        where = f"{path}:{number}"
        if relative.count("/") != 1 or not relative.endswith(".wav"):
            raise DataFormatError(f"{where}: expected '<word>/<file>.wav', got {relative!r}")
        if not (root / relative).is_file():
            raise DataFormatError(f"{where}: listed clip {root / relative} does not exist")
        listed[relative] = where
    return listed


def read_speech_commands(root: str | os.PathLike, *, check_audio: bool = False) -> list[CorpusItem]:
    """All keyword clips under ``root`` with ``text`` = the word and ``split`` in train/validation/test.

    Clips are found by listing the word folders; the split lists are checked line by line (each listed
    clip must exist), and ``check_audio`` also opens every clip's header to catch empty or corrupt files.
    """
    root = require_dir(root, "the Speech Commands folder (one folder per word + validation_list.txt)",
                       "Run `python -m ninerepro.data.prepare speech-commands --root data` or pass that folder.")
    split_of = {rel: split for split, name in SPLIT_FILES.items() for rel in _read_split_list(root, name)}
    items: list[CorpusItem] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != BACKGROUND_DIR):
        for wav in sorted(folder.glob("*.wav")):
            if "_nohash_" not in wav.name:
                raise DataFormatError(f"{wav}: clip name lacks '_nohash_' (expected <speaker>_nohash_<k>.wav)")
            relative = f"{folder.name}/{wav.name}"
            speaker = wav.name.split("_nohash_")[0]
            if check_audio:
                check_audio_file(wav, str(wav))
            items.append(CorpusItem(wav, folder.name, speaker, wav.stem, split=split_of.get(relative, "train")))
    if not items:
        raise DataFormatError(f"{root}: no <word>/*.wav clips found")
    return items


def background_noise_files(root: str | os.PathLike) -> list[Path]:
    """The long noise recordings in ``_background_noise_/`` (used for silence clips and augmentation)."""
    return sorted((Path(root) / BACKGROUND_DIR).glob("*.wav"))


def prepare_speech_commands(
    root: str | os.PathLike, out_dir: str | os.PathLike, prefix: str = "speech_commands"
) -> list[Path]:
    """Write ``<prefix>_{train,validation,test}.jsonl`` with ``audio_filepath``, ``duration``, ``command``."""
    items = read_speech_commands(root)
    written = []
    for split in ("train", "validation", "test"):
        records = []
        for item in (i for i in items if i.split == split):
            info = sf.info(str(item.audio_path))
            records.append({"audio_filepath": str(item.audio_path), "duration": round(info.frames / info.samplerate, 4),
                            "command": item.text})
        written.append(write_manifest(Path(out_dir) / f"{prefix}_{split}.jsonl", records))
        log.info("Speech Commands %s: %d clips", split, len(records))
    return written
