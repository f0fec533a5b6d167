"""LM files as users have them: ARPA (plain or .gz, any letter case) and KenLM binaries.

The flashlight decoder needs the LM's word list for its lexicon; it is read from the ARPA unigram section
only (streamed: a 4-gram LibriSpeech ARPA is never held in Python). An ARPA file larger than memory is
converted once to a KenLM binary with ``build_binary`` when that tool is installed.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
KENLM_BINARY_MAGIC = b"mmap lm http://kheafield.com/code"
SPECIAL = ("<s>", "</s>", "<unk>")


def is_kenlm_binary(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(KENLM_BINARY_MAGIC)) == KENLM_BINARY_MAGIC


def open_text(path: Path) -> io.TextIOBase:
    """The file as UTF-8 text, gunzipped when it is gzip."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")


def arpa_unigrams(path: str | os.PathLike) -> Iterator[tuple[str, float]]:
    """(word, log10 P) of the ARPA file's 1-gram section, read line by line (stops at the 2-grams)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"LM file {path} does not exist; build one with deepspeech-lm --text FILE")
    if is_kenlm_binary(path):
        raise ValueError(f"{path} is a KenLM binary, whose word list cannot be read here; pass --lexicon "
                         "WORDS.txt (one word per line) or the ARPA file it was built from")
    section = False
    try:
        with open_text(path) as f:
            for line in f:
                line = line.strip()
                if line == "\\1-grams:":
                    section = True
                elif section and line.startswith("\\"):
                    return
                elif section and line:
                    parts = line.split()
                    yield parts[1], float(parts[0])
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 ARPA text; give an .arpa, .arpa.gz or KenLM binary file") from None
    if not section:
        raise ValueError(f"{path}: no \\1-grams: section; is this an ARPA file?")


def read_lexicon_words(path: str | os.PathLike) -> list[str]:
    """Words of a word list (first column of each line, as in a lexicon file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--lexicon {path}: no such file; give a word list, one word per line")
    with open_text(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def memory_bytes() -> int:
    """Physical memory of this machine (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def loadable_lm(path: str | os.PathLike, memory: int | None = None) -> Path:
    """``path`` itself, or for an ARPA file too large to load (KenLM's ARPA reader needs several times
    the file size) a KenLM binary made from it once with ``build_binary`` next to it (``<path>.klm``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"LM file {path} does not exist; build one with deepspeech-lm --text FILE")
    memory = memory_bytes() if memory is None else memory
    if is_kenlm_binary(path) or not memory or path.stat().st_size * 3 < memory:
        return path
    binary = path.with_name(path.name + ".klm")
    if binary.is_file() and is_kenlm_binary(binary):
        return binary
    tool = shutil.which("build_binary")
    if tool is None:
        raise ValueError(f"{path} ({path.stat().st_size / 2**30:.1f} GiB) is too large to load as ARPA in "
                         f"{memory / 2**30:.0f} GiB of memory; convert it once with KenLM's `build_binary "
                         f"{path} {binary}` and pass the binary")
    log.info("converting %s to a KenLM binary %s (once)", path, binary)
    tmp = binary.with_name(binary.name + ".tmp")
    subprocess.run([tool, str(path), str(tmp)], check=True)
    os.replace(tmp, binary)
    return binary
