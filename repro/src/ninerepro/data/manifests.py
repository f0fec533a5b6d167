"""JSON-lines manifests (one JSON object per line), the NeMo-style format the ASR and KWS recipes use.

LibriSpeech manifests carry ``audio_filepath``, ``duration`` (seconds) and ``text``; Speech Commands
manifests carry ``audio_filepath``, ``duration`` and ``command``. Every line is checked when read, so a
malformed line is reported with file and line number before any training starts.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ninerepro.atomic import atomic_write_text
from ninerepro.data.filelists import DataFormatError, numbered_lines

ASR_KEYS = ("audio_filepath", "duration", "text")
KWS_KEYS = ("audio_filepath", "duration", "command")


def _check_record(record: Any, required: Sequence[str], where: str) -> None:
    if not isinstance(record, dict):
        raise DataFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    missing = [key for key in required if key not in record]
    if missing:
        raise DataFormatError(f"{where}: missing field(s) {missing}; each line needs {list(required)}")
    if "duration" in record:
        duration = record["duration"]
        if not isinstance(duration, int | float) or not math.isfinite(duration) or duration <= 0:
            raise DataFormatError(f"{where}: duration must be a positive number of seconds, got {duration!r}")
    for key in ("text", "command"):
        if key in required and (not isinstance(record[key], str) or not record[key].strip()):
            raise DataFormatError(f"{where}: empty or non-string {key!r}; drop the line or fill it in")


def read_manifest(
    path: str | os.PathLike,
    required: Sequence[str] = ("audio_filepath", "duration"),
    *,
    check_audio: bool = False,
) -> list[dict[str, Any]]:
    """Read a JSON-lines manifest; every line must be an object holding the ``required`` keys.

    Pass ``required=ASR_KEYS`` or ``KWS_KEYS`` to also demand a non-empty transcript or command. With
    ``check_audio``, relative ``audio_filepath`` values are resolved against the manifest's folder.
    """
    path = Path(path)
    records: list[dict[str, Any]] = []
    for number, line in numbered_lines(path):
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
        _check_record(record, required, where)
        if check_audio:
            audio = Path(record["audio_filepath"])
            audio = audio if audio.is_absolute() else path.parent / audio
            if not audio.is_file():
                raise DataFormatError(f"{where}: audio file {audio} does not exist")
        records.append(record)
    return records


def write_manifest(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> Path:
    """Write records atomically as JSON lines (UTF-8, non-ASCII kept readable)."""
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return atomic_write_text(path, text)
