"""``python -m ninerepro.data.prepare {ljspeech,libritts,librispeech,speech-commands} --root data``.

Downloads the official archives into ``--root`` (resumable, checksum-verified, atomic extraction), or
uses an already-extracted folder given with ``--source`` (e.g. a corpus from ``ninerepro.data.synth``), then
writes what the recipes read:

* ljspeech: ``<root>/filelists/ljs_audio_text_{train,val,test}_filelist.txt`` (Tacotron 2, ``path|text``)
  and ``ljs_audiopaths_text_sid_{train,val,test}_filelist.txt`` (Flowtron/Mellotron, ``path|text|0``);
* libritts: a 22050 Hz copy under ``<root>/LibriTTS_22k/`` and ``libritts_<subsets>_audiopath_text_sid_
  {train,val}_filelist.txt`` (``path|text|speaker``);
* librispeech: ``<root>/manifests/librispeech_<subset>.jsonl`` (``audio_filepath``, ``duration``, ``text``);
* speech-commands: ``<root>/manifests/speech_commands_{train,validation,test}.jsonl`` (``command``).

Every step is safe to re-run: present archives/folders are skipped, outputs are written atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ninerepro.data.datasets.fetch import apply_overrides, fetch
from ninerepro.data.datasets.librispeech import prepare_librispeech
from ninerepro.data.datasets.libritts import prepare_libritts
from ninerepro.data.datasets.ljspeech import prepare_ljspeech
from ninerepro.data.datasets.sources import DEFAULT_SUBSETS, archives
from ninerepro.data.datasets.speech_commands import prepare_speech_commands

DATASETS = tuple(DEFAULT_SUBSETS)


def locate(args: argparse.Namespace, subsets: tuple[str, ...]) -> Path:
    """The dataset folder: ``--source`` as given, else the downloaded/extracted tree under ``--root``."""
    if args.source is not None:
        return args.source
    selected = apply_overrides(archives(args.dataset, subsets), args.url, args.mirror, args.sha256)
    targets = fetch(selected, args.root, keep_archives=args.keep_archives)
    # LibriTTS/LibriSpeech targets are <root>/<Corpus>/<subset>; the readers want <root>/<Corpus>.
    return targets[0].parent if args.dataset in ("libritts", "librispeech") else targets[0]


def run(args: argparse.Namespace) -> list[Path]:
    subsets = tuple(args.subsets or DEFAULT_SUBSETS[args.dataset])
    source = locate(args, subsets)
    if args.dataset == "ljspeech":
        return prepare_ljspeech(source, args.root / "filelists", seed=args.seed)
    if args.dataset == "libritts":
        return prepare_libritts(source, subsets, args.root / "LibriTTS_22k", args.root / "filelists",
                                min_speaker_minutes=args.min_speaker_minutes, max_seconds=args.max_seconds,
                                seed=args.seed)
    if args.dataset == "librispeech":
        return prepare_librispeech(source, subsets, args.root / "manifests")
    return prepare_speech_commands(source, args.root / "manifests")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ninerepro.data.prepare", description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", choices=DATASETS)
    p.add_argument("--root", type=Path, default=Path("data"), help="where archives, datasets and lists go")
    p.add_argument("--subsets", nargs="+", help=f"subsets to fetch/prepare; defaults: {DEFAULT_SUBSETS}")
    p.add_argument("--source", type=Path, help="an already-extracted dataset folder; skips the download")
    p.add_argument("--url", help="download this URL instead of the official one (one archive)")
    p.add_argument("--mirror", help="base URL of a mirror holding the archives under their official names")
    p.add_argument("--sha256", help="expected SHA-256 of the archive (with --url; default: the official digest)")
    p.add_argument("--keep-archives", action="store_true", help="keep the downloaded archives after extraction")
    p.add_argument("--seed", type=int, default=1234, help="seed of the deterministic train/val/test split")
    p.add_argument("--min-speaker-minutes", type=float, default=5.0, help="libritts: Flowtron's speaker filter")
    p.add_argument("--max-seconds", type=float, default=10.0, help="libritts: Flowtron's clip-length filter")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        written = run(args)
    except (ValueError, OSError) as err:  # bad input, checksum, download or missing folder: message says the fix
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
