"""Pipe-separated filelists (``path|text`` and ``path|text|speaker``), read and written safely.

Tacotron 2, Flowtron and Mellotron train from these UTF-8 text files. A single bad line in a
13,000-line list should not surface as an IndexError deep inside a data loader at step 40,000, so the
reader checks every line up front and names the file, the line number and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ninerepro.atomic import atomic_write_text

TACOTRON_FIELDS = ("path", "text")
FLOWTRON_FIELDS = ("path", "text", "speaker")


class DataFormatError(ValueError):
    """A dataset file (filelist, manifest, transcript) has a malformed line; the message names both."""


@dataclass(frozen=True)
class FilelistEntry:
    """One filelist line. ``speaker`` is the raw field (an int id in Flowtron lists), None if absent."""

    path: str
    text: str
    speaker: str | None = None


def numbered_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` of a UTF-8 text file, 1-based, without the line ending.

    Lines are decoded one by one so that a stray Latin-1 byte is reported with its line number
    rather than as a UnicodeDecodeError offset into the whole file. Blank lines are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFormatError(
                    f"{path}:{number}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                    "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
                ) from None
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line


def _check_audio(path: Path, audio: str, where: str, root: Path | None) -> None:
    full = Path(audio) if root is None or Path(audio).is_absolute() else root / audio
    if not full.is_file():
        raise DataFormatError(f"{where}: audio file {full} does not exist; fix the path or remove the line")


def read_filelist(
    path: str | os.PathLike,
    fields: Sequence[str] = TACOTRON_FIELDS,
    *,
    check_audio: bool = False,
    audio_root: str | os.PathLike | None = None,
) -> list[FilelistEntry]:
    """Read a ``|``-separated filelist whose columns are ``fields`` (``TACOTRON_FIELDS`` or ``FLOWTRON_FIELDS``).

    Raises :class:`DataFormatError` naming file and line for: non-UTF-8 bytes, a wrong number of fields,
    an empty transcript, a non-integer speaker id and (with ``check_audio``) a missing audio file, whose
    relative paths are taken from ``audio_root`` (default: the current directory, as the official repos do).
    """
    fields = tuple(fields)
    if fields not in (TACOTRON_FIELDS, FLOWTRON_FIELDS):
        raise ValueError(f"fields must be {TACOTRON_FIELDS} or {FLOWTRON_FIELDS}, got {fields}")
    path = Path(path)
    root = Path(audio_root) if audio_root is not None else None
    entries: list[FilelistEntry] = []
    for number, line in numbered_lines(path):
        where = f"{path}:{number}"
        parts = line.split("|")
        if len(parts) != len(fields):
            raise DataFormatError(
                f"{where}: expected {len(fields)} '|'-separated fields ({'|'.join(fields)}), found {len(parts)} "
                f"in {line[:80]!r}"
            )
        if not parts[0].strip():
            raise DataFormatError(f"{where}: empty audio path")
        if not parts[1].strip():
            raise DataFormatError(f"{where}: empty transcript for {parts[0]}; drop the line or add its text")
        speaker = parts[2].strip() if len(parts) == 3 else None
        if speaker is not None and not speaker.lstrip("-").isdigit():
            raise DataFormatError(f"{where}: speaker id {speaker!r} is not an integer")
        if check_audio:
            _check_audio(path, parts[0], where, root)
        entries.append(FilelistEntry(parts[0], parts[1], speaker))
    return entries


def write_filelist(path: str | os.PathLike, entries: Iterable[FilelistEntry]) -> Path:
    """Write entries atomically, one ``path|text[|speaker]`` line each; all lines must have the same shape."""
    lines: list[str] = []
    for entry in entries:
        for value in (entry.path, entry.text, entry.speaker or ""):
            if "|" in value or "\n" in value:
                raise ValueError(f"{path}: field {value!r} contains '|' or a newline, which breaks the filelist")
        if not entry.text.strip():
            raise ValueError(f"{path}: refusing to write an empty transcript for {entry.path}")
        cols = [entry.path, entry.text] + ([entry.speaker] if entry.speaker is not None else [])
        lines.append("|".join(cols) + "\n")
    if len({line.count("|") for line in lines}) > 1:
        raise ValueError(f"{path}: mixing lines with and without a speaker column")
    return atomic_write_text(path, "".join(lines))


def speaker_table(entries: Sequence[FilelistEntry]) -> dict[str, int]:
    """Raw speaker id -> model row, as NVIDIA Flowtron and Mellotron build it from the *training* list.

    Their ``create_speaker_lookup_table`` is ``np.sort(np.unique(ids))`` over the id *strings*, so the order is
    lexicographic ("103" < "19" < "7"), not numeric. Official multispeaker checkpoints (e.g. the 123 LibriTTS
    speakers) were trained with that order; any other order sends each id to another speaker's embedding."""
    raw = sorted({e.speaker for e in entries if e.speaker is not None})
    if not raw:
        raise DataFormatError("the training filelist has no speaker column: multispeaker lists are path|text|speaker")
    return {s: i for i, s in enumerate(raw)}
