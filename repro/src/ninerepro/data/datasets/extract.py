"""Atomic, path-safe extraction of .tar.gz / .tar.bz2 / .tar / .zip archives.

Everything is unpacked into a temporary folder beside the target and renamed into place only when the
archive was read to the end, so a crash or a corrupt archive never leaves a half-extracted dataset that
the next run would take for a complete one: the target exists if and only if extraction finished.
Members whose path would land outside the target (absolute paths, ``..``, links pointing out) are
refused, and the temporary folder is removed, so nothing of such an archive is left on disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the extraction folder."""


def _check_member(archive: Path, name: str, link: str | None = None) -> None:
    for candidate in (name, link):
        if candidate is None:
            continue
        path = PurePosixPath(candidate.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the target folder ({candidate!r}); "
                                     "refusing to extract this archive")


def _extract_tar(archive: Path, into: Path) -> None:
    """One pass over the (possibly compressed) stream: each member is checked, then written.

    Listing all members first would decompress a multi-gigabyte .tar.bz2 twice; checking member by
    member is as safe here because everything lands in a temporary folder that is deleted on error.
    """
    safe_filter = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4 / 3.10.12
    with tarfile.open(archive, "r:*") as tar:
        for member in tqdm(tar, desc=f"extract {archive.name}", unit="file"):
            link = member.linkname if (member.issym() or member.islnk()) else None
            _check_member(archive, member.name, link)
            tar.extract(member, into, **safe_filter)


def _extract_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as handle:
        names = handle.namelist()
        for name in names:
            _check_member(archive, name)
        for name in tqdm(names, desc=f"extract {archive.name}", unit="file"):
            handle.extract(name, into)


def extract(archive: str | os.PathLike, target: str | os.PathLike, member: str | None = None) -> Path:
    """Unpack ``archive`` and move it (or its sub-folder ``member``) to ``target``, atomically.

    ``member`` selects a folder inside the archive, e.g. ``"LibriSpeech/dev-clean"`` so that several
    subset archives can each land in their own folder of one tree. Top-level files beside ``member``
    (README, SPEAKERS.TXT) are copied next to ``target`` when not already there. Refuses an existing
    ``target``: the rename is the commit marker, so an existing target is a finished extraction.
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        raise FileExistsError(f"{target} already exists; delete it to extract {archive.name} again")
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: no such archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extract", dir=target.parent))
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, tmp)
        else:
            raise ValueError(f"{archive}: not a tar or zip archive (truncated download?)")
        source = tmp / member if member else tmp
        if not source.is_dir():
            raise FileNotFoundError(f"{archive}: has no folder {member!r}; the archive layout is not the expected one")
        if member:
            for sibling in source.parent.iterdir():
                if sibling.is_file() and not (target.parent / sibling.name).exists():
                    shutil.copy2(sibling, target.parent / sibling.name)
        os.chmod(source, 0o755)  # mkdtemp's private mode must not leak into the dataset folder
        os.replace(source, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
    return target
