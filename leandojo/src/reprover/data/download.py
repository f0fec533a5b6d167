"""``python -m reprover.data.download --root data``: fetch LeanDojo Benchmark 4 (resumable, MD5-checked).

The release is a ~1 GB tar.gz on Zenodo. ninerepro's downloader resumes a dropped transfer from
``<root>/downloads/<name>.part`` and renames it into place only once the MD5 matches; extraction is atomic,
so ``<root>/leandojo_benchmark_4/`` exists only when it is complete and a rerun skips finished work.
The default is the release ReProver's ``scripts/download_data.py`` points at; ``--url``/``--md5``
select another version (e.g. the earlier record 10823489).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ninerepro.data.datasets.download import download
from ninerepro.data.datasets.extract import extract

URL = "https://zenodo.org/records/12740403/files/leandojo_benchmark_4.tar.gz"
MD5 = "25e1ee60cd8925b9d2e8673ddcc34b4c"
MEMBER = "leandojo_benchmark_4"  # top-level folder inside the archive


def fetch_benchmark(root: Path, url: str = URL, md5: str | None = MD5, keep_archive: bool = False) -> Path:
    """Download and extract into ``root/leandojo_benchmark_4``; a finished target is left alone."""
    target = root / MEMBER
    if (target / "corpus.jsonl").is_file():
        logging.getLogger(__name__).info("%s already present", target)
        return target
    archive = download(url, root / "downloads" / url.rsplit("/", 1)[-1], md5=md5)
    extract(archive, target, MEMBER)
    if not keep_archive:
        archive.unlink()
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="data", help="data folder, relative to the working directory (the "
                        "benchmark lands in ROOT/leandojo_benchmark_4; `make data-leandojo` uses <repo>/data)")
    parser.add_argument("--url", default=URL)
    parser.add_argument("--md5", default=MD5, help="expected MD5 of the archive ('' to skip the check)")
    parser.add_argument("--keep-archive", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        target = fetch_benchmark(Path(args.root), args.url, args.md5 or None, args.keep_archive)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"LeanDojo Benchmark 4 ready in {target}; check it with `reprover check-data --data {target}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
