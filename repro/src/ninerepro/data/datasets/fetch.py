"""Make a dataset's archives present under ``--root``: download (resumable, verified), then extract atomically.

Idempotent: an archive whose target folder exists is skipped, because :func:`extract` only creates the
target when extraction finished. Archives live in ``<root>/downloads/`` and are deleted after a
successful extraction unless ``keep_archives``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ninerepro.data.datasets.download import download
from ninerepro.data.datasets.extract import extract
from ninerepro.data.datasets.sources import Archive

log = logging.getLogger(__name__)


def apply_overrides(archives: list[Archive], url: str | None, mirror: str | None, sha256: str | None) -> list[Archive]:
    """Point archives at ``url`` (one archive only) or at ``mirror`` + file name; ``sha256`` replaces the digest."""
    if (url or sha256) and len(archives) != 1:
        raise ValueError(f"--url/--sha256 name one archive but {len(archives)} are selected; "
                         "pick one with --subsets, or use --mirror for several")
    if url and mirror:
        raise ValueError("give either --url or --mirror, not both")
    out = []
    for archive in archives:
        if url:
            archive = replace(archive, url=url)
        elif mirror:
            archive = replace(archive, url=mirror.rstrip("/") + "/" + archive.filename)
        if sha256:
            archive = replace(archive, sha256=sha256)
        out.append(archive)
    return out


def fetch(archives: list[Archive], root: Path, *, keep_archives: bool = False) -> list[Path]:
    """Download and extract each archive whose target is missing; return the target folders."""
    targets = []
    for archive in archives:
        target = root / archive.target
        if target.is_dir():
            log.info("%s: already present, skipping %s", target, archive.filename)
        else:
            local = download(archive.url, root / "downloads" / archive.filename, sha256=archive.sha256)
            extract(local, target, archive.member)
            if not keep_archives:
                local.unlink()
        targets.append(target)
    return targets
