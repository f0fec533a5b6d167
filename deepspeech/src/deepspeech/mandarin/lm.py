"""The character n-gram LM of DS2's Mandarin decoder, built by our Kneser-Ney builder from training transcripts.

DS2 §3.8 decodes Mandarin with a character 5-gram. Our builder (``deepspeech.ngram.build_arpa``) counts
whitespace-separated tokens, so each normalised transcript is written as its characters separated by spaces
("而对楼市" -> "而 对 楼 市"); the resulting ARPA file's "words" are characters, which is what
``CharLMBeamSearchDecoder`` asks it about.

``python -m deepspeech.mandarin.lm --manifest aishell_train.jsonl --order 5 --out lm_char5.arpa``
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from deepspeech.mandarin.text import normalize_cmn
from deepspeech.ngram import build_arpa
from ninerepro.atomic import atomic_write_text
from ninerepro.cli_errors import user_errors
from ninerepro.data.manifests import ASR_KEYS, read_manifest


def char_lm_text(transcripts: Iterable[str]) -> str:
    """One line per transcript, its normalised characters separated by single spaces."""
    lines = [" ".join(normalize_cmn(t)) for t in transcripts]
    return "".join(line + "\n" for line in lines if line)


def build_char_lm(manifest: str | os.PathLike, out: str | os.PathLike, order: int = 5) -> Path:
    """ARPA character n-gram of a manifest's transcripts (its ``text`` fields); the LM text lands beside it."""
    out = Path(out)
    text = out.with_suffix(".txt")
    atomic_write_text(text, char_lm_text(r["text"] for r in read_manifest(manifest, ASR_KEYS)))
    return build_arpa(text, out, order=order)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepspeech.mandarin.lm", description=__doc__.split("\n\n")[0])
    p.add_argument("--manifest", required=True, help="training manifest (JSON lines with a text field)")
    p.add_argument("--order", type=int, default=5, help="n-gram order (DS2 §3.8: character 5-gram)")
    p.add_argument("--out", required=True, help="output .arpa path")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args(argv)
    with user_errors(p.prog, args.debug):
        print(build_char_lm(args.manifest, args.out, args.order))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
