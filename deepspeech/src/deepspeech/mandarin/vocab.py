"""``python -m deepspeech.mandarin.vocab --manifest TRAIN.jsonl --out VOCAB.txt [--min-count 1]``: the character
vocabulary of a training manifest (blank, unknown, then its characters; ``deepspeech.mandarin.text``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepspeech.mandarin.text import build_vocab, save_vocab
from ninerepro.cli_errors import user_errors
from ninerepro.data.manifests import ASR_KEYS, read_manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepspeech.mandarin.vocab", description=__doc__.split(":")[0])
    p.add_argument("--manifest", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--min-count", type=int, default=1, help="keep characters seen at least this often")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args(argv)
    with user_errors(p.prog, args.debug):
        vocab = build_vocab((r["text"] for r in read_manifest(args.manifest, ASR_KEYS)), args.min_count)
        print(f"{save_vocab(vocab, args.out)}: {len(vocab) - 2} characters + blank + unknown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
