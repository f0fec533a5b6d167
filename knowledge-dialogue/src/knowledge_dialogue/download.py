"""``python -m knowledge_dialogue.download {wow,woi} --root data``: the ParlAI releases, prepared as MSDP reads them.

Wizard of Wikipedia (``wizard_of_wikipedia.tgz``: ``train.json``, ``test_random_split.json`` = seen,
``test_topic_split.json`` = unseen) and Wizard of Internet (``wizard_of_internet.tgz``: ``test.jsonl``), from
the ParlAI download server as its ``tasks/*/build.py`` name them. Preparation runs the official preprocessing
(:mod:`knowledge_dialogue.data`) and writes, per split, ``<root>/<name>/<split>.tsv`` and its knowledge and
response reference files. Downloads resume and every output is written atomically (``ninerepro.data.datasets``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge_dialogue.data import process_woi, process_wow, read_woi, read_wow, write_prepared

PARLAI = "http://parl.ai/downloads"
ARCHIVES = {"wow": "wizard_of_wikipedia/wizard_of_wikipedia.tgz", "woi": "wizard_of_internet/wizard_of_internet.tgz"}
# prepared split -> file inside the extracted archive
SPLITS = {"wow": {"train": "train.json", "test_seen": "test_random_split.json", "test_unseen": "test_topic_split.json"},
          "woi": {"test": "test.jsonl"}}


def prepare(name: str, raw_dir: Path, out_dir: Path) -> list[Path]:
    """From the extracted release in ``raw_dir`` to ``<out_dir>/<split>.tsv`` + reference files."""
    written = []
    for split, fname in SPLITS[name].items():
        src = raw_dir / fname
        samples = process_wow(read_wow(src)) if name == "wow" else process_woi(read_woi(src))
        written += list(write_prepared(samples, out_dir, split).values())
    return written


def _release_dir(extracted: Path, name: str) -> Path:
    """The folder holding the split files (archives differ on whether they wrap them in a folder)."""
    first = next(iter(SPLITS[name].values()))
    hits = sorted(extracted.rglob(first))
    if not hits:
        raise FileNotFoundError(f"{extracted}: no {first} inside the extracted archive")
    return hits[0].parent


def fetch(name: str, root: Path, base_url: str = PARLAI) -> list[Path]:
    from ninerepro.data.datasets.download import download
    from ninerepro.data.datasets.extract import extract

    archive = root / name / "raw" / Path(ARCHIVES[name]).name
    download(f"{base_url}/{ARCHIVES[name]}", archive)
    extracted = root / name / "raw" / "extracted"
    if not extracted.exists():
        extract(archive, extracted)
    return prepare(name, _release_dir(extracted, name), root / name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=sorted(ARCHIVES))
    p.add_argument("--root", default="data")
    p.add_argument("--base-url", default=PARLAI, help="a mirror holding the same paths")
    args = p.parse_args(argv)
    try:
        written = fetch(args.name, Path(args.root), args.base_url)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
