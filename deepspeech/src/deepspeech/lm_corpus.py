"""The LibriSpeech LM corpus (OpenSLR resource 11): the text the recipe's n-gram LM is estimated from.

``librispeech-lm-norm.txt.gz`` holds ~40 M normalised sentences (~800 M words, upper case) from 14,500
Project Gutenberg books, without the books of LibriSpeech's dev and test sets. The OpenSLR LMs that
deepspeech.pytorch users decode with were built from it; DS2 itself used a 5-gram of Common Crawl text,
which is not public. The download is resumable (ninerepro.data.datasets.download); no published checksum is
known to us, so it is unverified unless ``--sha256`` is given.

    python -m deepspeech.lm_corpus --root data      # -> data/librispeech-lm/librispeech-lm-norm.txt.gz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ninerepro.data.datasets.download import ChecksumError, DownloadError, download

URL = "https://www.openslr.org/resources/11/librispeech-lm-norm.txt.gz"
FILENAME = "librispeech-lm-norm.txt.gz"


def corpus_path(root: str | Path) -> Path:
    return Path(root) / "librispeech-lm" / FILENAME


def fetch_lm_corpus(root: str | Path, url: str = URL, sha256: str | None = None) -> Path:
    """The corpus under ``root`` (downloaded once, resumed after an interruption)."""
    return download(url, corpus_path(root), sha256=sha256)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Download the LibriSpeech LM corpus (OpenSLR 11) for deepspeech-lm.")
    p.add_argument("--root", required=True, help="data folder; the file goes to ROOT/librispeech-lm/")
    p.add_argument("--url", default=URL, help="another location of the same file (a mirror)")
    p.add_argument("--sha256", default=None, help="expected digest, to verify the download")
    args = p.parse_args(argv)
    try:
        path = fetch_lm_corpus(args.root, args.url, args.sha256)
    except (ChecksumError, DownloadError, OSError) as e:
        print(f"error: {e}; rerun `python -m deepspeech.lm_corpus --root {args.root}` to resume, or pass --url "
              "a mirror of the file", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
