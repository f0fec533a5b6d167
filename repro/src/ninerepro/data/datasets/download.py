"""Resumable, checksum-verified HTTP(S) downloads.

Speech corpora are gigabytes; a dropped connection at 90 % should cost 10 %, not a restart, and a
truncated or corrupted archive must never be mistaken for a good one. So bytes go to ``<dest>.part``,
a retry asks the server for the rest with an HTTP ``Range`` header, and ``<dest>`` appears (by rename)
only after the whole file matches its checksum. On a mismatch the ``.part`` is deleted, because
resuming a corrupt prefix would only reproduce the corruption.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A downloaded file's digest differs from the expected one."""


class DownloadError(OSError):
    """The server refused the file or the connection failed more often than allowed."""


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file, read in chunks (archives do not fit in memory)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, sha256: str | None, md5: str | None) -> None:
    """Raise :class:`ChecksumError` naming the file and both digests if ``path`` does not match."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            actual = file_digest(path, algorithm)
            if actual.lower() != expected.lower():
                raise ChecksumError(f"{path}: {algorithm} mismatch: expected {expected.lower()}, got {actual}")


def _fetch_into(url: str, part: Path, timeout: float) -> None:
    """Append the missing bytes of ``url`` to ``part`` (Range request); raises on a dropped connection."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # asked for bytes past the end: the .part is already complete
            return
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from err
    with response:
        if offset and response.status != 206:  # server ignored Range: start over
            log.warning("%s: server does not support resume; downloading from the start", url)
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        mode = "ab" if offset else "wb"
        with open(part, mode) as handle, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                              desc=part.name.removesuffix(".part")) as bar:
            received = 0
            while block := response.read(CHUNK):
                handle.write(block)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < int(length):
            raise http.client.IncompleteRead(b"", int(length) - received)


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    md5: str | None = None,
    *,
    retries: int = 5,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, then rename it into place.

    An existing ``dest`` that matches the checksum is kept (no network access). Without a checksum the
    file is accepted as downloaded, and a warning says it was not verified.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file():
        try:
            verify(dest, sha256, md5)
        except ChecksumError as err:
            raise ChecksumError(f"{err}; this file was already present: delete it to download it again") from None
        return dest
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            _fetch_into(url, part, timeout)
            break
        except (http.client.HTTPException, ConnectionError, TimeoutError, urllib.error.URLError) as err:
            if attempt == retries:
                raise DownloadError(f"{url}: failed after {retries + 1} attempts ({err!r}); rerun the same "
                                    f"command to resume from the {part.stat().st_size if part.exists() else 0} "
                                    f"bytes kept in {part}") from err
            log.warning("%s: connection lost (%r); resuming (attempt %d of %d)", url, err, attempt + 2, retries + 1)
            time.sleep(min(2.0**attempt, 30.0) * 0.1)
    try:
        verify(part, sha256, md5)
    except ChecksumError as err:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{dest.name}: {str(err).split(': ', 1)[1]} (from {url}); the partial file was "
                            "deleted; rerun to download again, or check the URL/mirror") from None
    if not (sha256 or md5):
        log.warning("%s: no checksum known, the download was not verified", dest)
    os.replace(part, dest)
    return dest
