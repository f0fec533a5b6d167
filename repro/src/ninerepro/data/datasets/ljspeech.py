"""LJSpeech 1.1: reader for ``metadata.csv`` + ``wavs/``, and the Tacotron 2 / Flowtron filelists.

On disk: ``LJSpeech-1.1/metadata.csv`` with UTF-8 lines ``id|raw text|normalised text`` (pipes, no
quoting; the text may contain quote characters, so it is not parsed as CSV) and
``LJSpeech-1.1/wavs/<id>.wav`` at 22050 Hz, 16-bit mono.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ninerepro.data.datasets.corpus import CorpusItem, check_audio_file, deterministic_split, require_dir
from ninerepro.data.filelists import DataFormatError, FilelistEntry, numbered_lines, write_filelist

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
SPEAKER = "LJ"
# The official Tacotron 2 split is 12,500 / 100 / 500 of 13,100 clips; the fractions reproduce those sizes.
VAL_FRACTION = 100 / 13100
TEST_FRACTION = 500 / 13100


def read_ljspeech_metadata(root: str | os.PathLike, *, check_audio: bool = False) -> list[CorpusItem]:
    """Read ``root/metadata.csv``; ``text`` is the normalised (third) column, as the Tacotron 2 lists use."""
    root = require_dir(root, "the LJSpeech-1.1 folder (metadata.csv + wavs/)",
                       "Run `python -m ninerepro.data.prepare ljspeech --root data` or pass the extracted folder.")
    metadata = root / "metadata.csv"
    items: list[CorpusItem] = []
    seen: dict[str, int] = {}
    for number, line in numbered_lines(metadata):
        where = f"{metadata}:{number}"
        parts = line.split("|")
        if len(parts) != 3:
            raise DataFormatError(f"{where}: expected 3 '|'-separated fields (id|raw text|normalised text), "
                                  f"found {len(parts)}")
        utt_id, raw, normalised = (part.strip() for part in parts)
        if not utt_id:
            raise DataFormatError(f"{where}: empty clip id")
        if not normalised:
            raise DataFormatError(f"{where}: empty normalised transcript for {utt_id}")
        if utt_id in seen:
            raise DataFormatError(f"{where}: clip id {utt_id} already used on line {seen[utt_id]}")
        seen[utt_id] = number
        item = CorpusItem(root / "wavs" / f"{utt_id}.wav", normalised, SPEAKER, utt_id, raw or None)
        if check_audio:
            check_audio_file(item.audio_path, where)
        items.append(item)
    return items


def prepare_ljspeech(source: str | os.PathLike, out_dir: str | os.PathLike, *, seed: int = 1234) -> list[Path]:
    """Write the Tacotron 2 (``path|text``) and Flowtron/Mellotron (``path|text|0``) train/val/test filelists.

    The split is a seeded shuffle of the sorted ids, so it is the same on every machine. Paths are written
    as ``source/wavs/<id>.wav`` exactly as ``source`` was given (relative stays relative).
    """
    items = read_ljspeech_metadata(source, check_audio=True)
    splits = dict(zip(("train", "val", "test"), deterministic_split(items, VAL_FRACTION, TEST_FRACTION, seed)))
    out_dir = Path(out_dir)
    written: list[Path] = []
    for split, split_items in splits.items():
        taco = [FilelistEntry(str(item.audio_path), item.text) for item in split_items]
        flow = [FilelistEntry(str(item.audio_path), item.text, "0") for item in split_items]
        written.append(write_filelist(out_dir / f"ljs_audio_text_{split}_filelist.txt", taco))
        written.append(write_filelist(out_dir / f"ljs_audiopaths_text_sid_{split}_filelist.txt", flow))
        log.info("LJSpeech %s: %d clips", split, len(split_items))
    return written
