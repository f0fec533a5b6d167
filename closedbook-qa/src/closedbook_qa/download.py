"""``python -m closedbook_qa.download {nq,tqa,webq} --root data``: the DPR release of the three QA sets.

CGAP reads NQ and TriviaQA from FiD's files and WebQuestions from a KILT-style JSONL; all three derive from the
DPR release (Karpukhin et al. 2020), which is what we fetch: the test/dev questions (``*.qa.csv``) and the
retriever training file, whose ``positive_ctxs[0]`` gives each pool question its passage. (FiD's
``ctxs[0]`` is the top *retrieved* passage rather than the gold positive one; users holding FiD's
``train.json`` can drop it in as ``<root>/<name>/train.json``, the reader accepts both.)

Preparation writes ``<root>/<name>/{test,dev}.qa.csv`` and a slim ``train.json`` holding only question,
answers and the first positive passage: the DPR training files are several GB because of their negative
passages, so they are streamed object by object, never loaded whole. Downloads resume and every output is
written atomically (``ninerepro.data.datasets.download``, ``ninerepro.atomic``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ninerepro.atomic import atomic_open
from ninerepro.data.filelists import DataFormatError

DPR = "https://dl.fbaipublicfiles.com/dpr/data/retriever"
# file names as in DPR's dpr/data/download_data.py resource map
SOURCES: dict[str, dict[str, str]] = {
    "nq": {"test": "nq-test.qa.csv", "dev": "nq-dev.qa.csv", "train": "biencoder-nq-train.json.gz"},
    "tqa": {"test": "trivia-test.qa.csv.gz", "dev": "trivia-dev.qa.csv.gz", "train": "biencoder-trivia-train.json.gz"},
    "webq": {"test": "webquestions-test.qa.csv", "dev": "webquestions-dev.qa.csv",
             "train": "biencoder-webquestions-train.json.gz"},
}


def _open_text(path: Path) -> IO[str]:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def iter_json_array(f: IO[str], chunk: int = 1 << 20) -> Iterator[object]:
    """The elements of a top-level JSON array, decoded one at a time from a text stream."""
    decoder, buf, pos, started = json.JSONDecoder(), "", 0, False
    while True:
        while True:  # skip separators
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if not started and pos < len(buf):
                if buf[pos] != "[":
                    raise DataFormatError(f"expected a JSON array, found {buf[pos]!r} at the start")
                started, pos = True, pos + 1
                continue
            break
        if pos < len(buf) and buf[pos] == "]":
            return
        try:
            obj, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            more = f.read(chunk)
            if not more:
                raise DataFormatError("the JSON array ends in the middle of an element (truncated file?)") from None
            buf, pos = buf[pos:] + more, 0
            continue
        yield obj
        pos = end
        if pos > chunk:
            buf, pos = buf[pos:], 0


def slim_pool(src: Path, dest: Path) -> int:
    """Write ``dest`` = [{question, answers, positive_ctxs: [first]}] from a DPR retriever file; returns the count."""
    n = 0
    with _open_text(src) as f, atomic_open(dest, "w") as out:
        out.write("[\n")
        for i, rec in enumerate(iter_json_array(f)):
            if not isinstance(rec, dict) or "question" not in rec or "answers" not in rec:
                raise DataFormatError(f"{src}: item {i} lacks 'question'/'answers'; is this a DPR retriever file?")
            ctxs = rec.get("positive_ctxs") or []
            first = [{"title": ctxs[0].get("title", ""), "text": ctxs[0].get("text", "")}] if ctxs else []
            slim = {"question": rec["question"], "answers": rec["answers"], "positive_ctxs": first}
            out.write((",\n" if n else "") + json.dumps(slim, ensure_ascii=False))
            n += 1
        out.write("\n]\n")
    return n


def copy_qas(src: Path, dest: Path) -> None:
    with _open_text(src) as f, atomic_open(dest, "w") as out:
        shutil.copyfileobj(f, out)


def prepare(name: str, raw_dir: Path, out_dir: Path) -> list[Path]:
    """From downloaded files in ``raw_dir`` to the layout ``closedbook_qa.datasets`` reads."""
    files = SOURCES[name]
    written = []
    for split in ("test", "dev"):
        dest = out_dir / f"{split}.qa.csv"
        copy_qas(raw_dir / files[split], dest)
        written.append(dest)
    dest = out_dir / "train.json"
    slim_pool(raw_dir / files["train"], dest)
    return [*written, dest]


def fetch(name: str, root: Path, base_url: str = DPR) -> list[Path]:
    from ninerepro.data.datasets.download import download

    raw = root / name / "raw"
    for fname in SOURCES[name].values():
        download(f"{base_url}/{fname}", raw / fname)
    return prepare(name, raw, root / name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=sorted(SOURCES))
    p.add_argument("--root", default="data")
    p.add_argument("--base-url", default=DPR, help="a mirror holding the same file names")
    args = p.parse_args(argv)
    try:
        for path in fetch(args.name, Path(args.root), args.base_url):
            print(path)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
