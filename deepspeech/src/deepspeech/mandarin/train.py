"""Training a Mandarin model: ``python -m deepspeech.mandarin.train -c configs/ds2_aishell.json --run-dir R
model.vocab=file:data/manifests/aishell_vocab.txt data.train_manifest=... [key=value ...]``.

The generic trainer (``deepspeech.train``) does the work; this entry point adds what a character vocabulary
needs first: ``model.vocab=file:...`` is replaced by the vocabulary itself (``cmn:<characters>``) so every
checkpoint carries its alphabet, and every training transcript is checked against it, the characters outside
it listed with counts and first lines (one line, exit 2), instead of failing on the first bad line.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path

from deepspeech.config import DeepSpeechConfig
from deepspeech.mandarin.text import MandarinVocab, vocab_from_spec, vocab_spec
from deepspeech.train import build_trainer
from ninerepro.cli_errors import user_errors
from ninerepro.data.filelists import DataFormatError
from ninerepro.data.manifests import ASR_KEYS, read_manifest
from ninerepro.train.cli import load_run_config, parse_train_args


def resolve_vocab(cfg: DeepSpeechConfig) -> DeepSpeechConfig:
    """``cfg`` with a ``file:`` vocabulary replaced by the inline ``cmn:`` form (saved with the model)."""
    if not cfg.model.vocab.startswith(("file:", "cmn:")):
        raise ValueError(f"model.vocab={cfg.model.vocab!r} is not a Mandarin vocabulary; pass "
                         "model.vocab=file:VOCAB.txt (written by `make data-aishell`) or use train.py for English")
    vocab = vocab_from_spec(cfg.model.vocab)
    return replace(cfg, model=replace(cfg.model, vocab=vocab_spec(vocab)))


def check_transcripts(manifest: str | Path, vocab: MandarinVocab) -> int:
    """Number of transcripts checked; characters outside ``vocab`` are one error listing them all."""
    unknown: Counter = Counter()
    first: dict[str, int] = {}
    records = read_manifest(manifest, ASR_KEYS)
    for number, record in enumerate(records, 1):
        for ch in vocab.unknown_characters(record["text"]):
            unknown[ch] += 1
            first.setdefault(ch, number)
    if unknown:
        listed = ", ".join(f"{ch!r} x{n} (first line {first[ch]})" for ch, n in unknown.most_common(20))
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        raise DataFormatError(
            f"{manifest}: {len(unknown)} character(s) outside the model's vocabulary of {len(vocab) - 2}: {listed}"
            f"{more}; rebuild the vocabulary from this manifest (`python -m deepspeech.mandarin.vocab --manifest "
            f"{manifest} --out VOCAB.txt`) or drop those lines")
    return len(records)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_train_args("Train a Mandarin Deep Speech 2 (character vocabulary) with CTC; re-running resumes.",
                            argv)
    with user_errors("deepspeech.mandarin.train"):
        cfg = resolve_vocab(load_run_config(DeepSpeechConfig, args))
        if not cfg.data.train_manifest:
            raise ValueError("data.train_manifest is empty; pass data.train_manifest=PATH (from `make data-aishell`)")
        check_transcripts(cfg.data.train_manifest, vocab_from_spec(cfg.model.vocab))
        trainer = build_trainer(cfg, args.run_dir)
    state = trainer.fit()
    print(f"trained to step {state.step}; checkpoints in {args.run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
