"""Atomic file writes: a reader sees the old file or the complete new one, never half of either.

The pattern: write to a temporary file in the same directory (so the rename stays on one filesystem),
flush and fsync, then ``os.replace``. A crash at any point leaves the previous file untouched and at most
a stray ``.tmp`` file, which the next write of the same target cleans up.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside ``path``; on clean exit it is fsynced and renamed over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); give it the mode a plain open() would, so shared
        # data folders and run directories stay readable by the group as the user's umask allows
        os.chmod(tmp, 0o666 & ~_current_umask())
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_save(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> Path:
    """Run ``writer(file)`` into a temp file and rename it over ``path`` only if it finished."""
    with atomic_open(path, "wb") as f:
        writer(f)
    return Path(path)
