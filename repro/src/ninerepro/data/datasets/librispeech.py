"""LibriSpeech: reader for ``<subset>/<speaker>/<chapter>/`` trees and JSON-lines manifests.

On disk: ``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<nnnn>.flac`` (16 kHz) and one
``<speaker>-<chapter>.trans.txt`` per chapter with lines ``<utt id> <UPPERCASE TRANSCRIPT>``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from ninerepro.data.datasets.corpus import CorpusItem, check_audio_file, require_dir
from ninerepro.data.filelists import DataFormatError, numbered_lines
from ninerepro.data.manifests import write_manifest

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
SUBSETS = ("dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100", "train-clean-360",
           "train-other-500")
_UTT_ID = re.compile(r"^(\d+)-(\d+)-(\d+)$")


def _read_chapter(trans: Path, subset: str, check_audio: bool) -> list[CorpusItem]:
    speaker, chapter = trans.parent.parent.name, trans.parent.name
    items: list[CorpusItem] = []
    for number, line in numbered_lines(trans):
        where = f"{trans}:{number}"
        utt_id, _, text = line.partition(" ")
        match = _UTT_ID.match(utt_id)
        if match is None or (match.group(1), match.group(2)) != (speaker, chapter):
            raise DataFormatError(f"{where}: utterance id {utt_id!r} should look like {speaker}-{chapter}-NNNN")
        if not text.strip():
            raise DataFormatError(f"{where}: empty transcript for {utt_id}")
        item = CorpusItem(trans.parent / f"{utt_id}.flac", text.strip(), speaker, utt_id, split=subset)
        if check_audio:
            check_audio_file(item.audio_path, where)
        items.append(item)
    return items


def read_librispeech(
    root: str | os.PathLike, subsets: Sequence[str] | None = None, *, check_audio: bool = False
) -> list[CorpusItem]:
    """Read every ``*.trans.txt`` of the given subsets (default: all present) under ``root`` (``LibriSpeech/``)."""
    root = require_dir(root, "the LibriSpeech folder holding subsets such as train-clean-100/",
                       "Run `python -m ninerepro.data.prepare librispeech --root data` or pass the extracted folder.")
    if subsets is None:
        subsets = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    items: list[CorpusItem] = []
    for subset in subsets:
        folder = require_dir(root / subset, f"LibriSpeech subset {subset}", "Download or extract that subset.")
        for trans in sorted(folder.glob("*/*/*.trans.txt")):
            items.extend(_read_chapter(trans, subset, check_audio))
    return items


def prepare_librispeech(root: str | os.PathLike, subsets: Sequence[str], out_dir: str | os.PathLike) -> list[Path]:
    """One manifest per subset, ``<out_dir>/librispeech_<subset>.jsonl``, with duration read from each header."""
    written: list[Path] = []
    for subset in subsets:
        records = []
        for item in tqdm(read_librispeech(root, [subset], check_audio=True), desc=f"manifest {subset}", unit="utt"):
            info = sf.info(str(item.audio_path))
            records.append({"audio_filepath": str(item.audio_path), "duration": round(info.frames / info.samplerate, 4),
                            "text": item.text})
        written.append(write_manifest(Path(out_dir) / f"librispeech_{subset}.jsonl", records))
        log.info("LibriSpeech %s: %d utterances", subset, len(records))
    return written
