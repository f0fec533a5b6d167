"""``python -m ninerepro.data.synth {ljspeech,libritts,speech-commands,librispeech} --out DIR --n N --seed S``.

The corpus is built in a temporary folder beside ``DIR`` and renamed into place when complete, so an
interrupted run never leaves a half corpus that a later step would take for a whole one. A small
``.repro-synth.json`` records what was made; ``--force`` replaces only a folder that carries it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from ninerepro.data.datasets.speech_commands import COMMANDS, WORDS_V1, WORDS_V2
from ninerepro.data.synth.ljspeech import write_ljspeech
from ninerepro.data.synth.read_speech import write_librispeech, write_libritts
from ninerepro.data.synth.speech_commands import write_speech_commands

WRITERS = {
    "ljspeech": write_ljspeech,
    "libritts": write_libritts,
    "librispeech": write_librispeech,
    "speech-commands": write_speech_commands,
}
MARKER = ".repro-synth.json"
WORD_SETS = {"v1": WORDS_V1, "v2": WORDS_V2, "commands": COMMANDS}


def parse_words(spec: str) -> tuple[str, ...]:
    """``v1``, ``v2``, ``commands`` or a comma-separated list of lowercase words."""
    if spec in WORD_SETS:
        return WORD_SETS[spec]
    words = tuple(w.strip() for w in spec.split(",") if w.strip())
    if not words or not all(w.isalpha() and w.islower() for w in words):
        raise ValueError(f"--words {spec!r}: give v1, v2, commands or comma-separated lowercase words")
    return words


def build(kind: str, out: Path, n: int, seed: int, workers: int, force: bool = False,
          words: tuple[str, ...] | None = None) -> Path:
    """Write corpus ``kind`` to ``out`` atomically (see module docstring) and return ``out``.

    ``words`` (speech-commands only) replaces the default 35-word v0.02 vocabulary.
    """
    if kind not in WRITERS:
        raise ValueError(f"unknown corpus kind {kind!r}; use one of {sorted(WRITERS)}")
    writer = WRITERS[kind]
    if words is not None:
        if kind != "speech-commands":
            raise ValueError("--words applies to speech-commands only")
        writer = functools.partial(write_speech_commands, words=tuple(words))
    if n < 3:
        raise ValueError(f"--n must be at least 3 (train/val/test each need a clip), got {n}")
    out = Path(out)
    if out.exists():
        if not force:
            raise FileExistsError(f"{out} already exists; pass --force to replace it or choose another --out")
        if not (out / MARKER).is_file():
            raise FileExistsError(f"{out} exists and was not made by ninerepro.data.synth; refusing to delete it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        writer(tmp, n, seed, workers)
        (tmp / MARKER).write_text(json.dumps({"kind": kind, "n": n, "seed": seed}) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes the folder private; a corpus is meant to be shared
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ninerepro.data.synth",
                                     description="Write a deterministic eSpeak NG corpus in a real dataset's layout.")
    parser.add_argument("kind", choices=sorted(WRITERS), help="which dataset's on-disk format to imitate")
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to create")
    parser.add_argument("--n", type=int, default=50, help="number of utterances / clips (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed; the same seed gives byte-identical files")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="synthesis processes (the output does not depend on it)")
    parser.add_argument("--force", action="store_true", help="replace an existing corpus made by this tool")
    parser.add_argument("--words", type=parse_words, help="speech-commands vocabulary: v1, v2 (default), commands, "
                        "or comma-separated words")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = build(args.kind, args.out, args.n, args.seed, args.workers, args.force, args.words)
    except (ValueError, FileExistsError) as err:
        parser.error(str(err))
    print(f"{args.kind}: {args.n} utterances -> {out} in {time.perf_counter() - start:.1f} s")
    return 0
