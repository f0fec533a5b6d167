"""Command lines: deepspeech-transcribe, deepspeech-eval, deepspeech-tune.

Errors a user can fix (missing file, wrong sample rate, bad manifest line, unreadable checkpoint) are
printed as one line naming the file and the fix, with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

from deepspeech.align import aligned_word_timings
from deepspeech.data import load_eval_utterances
from deepspeech.decoding import DecoderSpec, build_decoder, decode_all
from deepspeech.evaluate import posteriors_of, score
from deepspeech.infer import Transcriber
from deepspeech.mandarin.text import check_lang, vocab_lang
from deepspeech.streaming import transcribe_long
from ninerepro.atomic import atomic_write_text
from ninerepro.audio import load_wav
from ninerepro.train.checkpoint import CheckpointError

USER_ERRORS = (FileNotFoundError, ValueError, CheckpointError)


def _decoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint file or run folder from deepspeech-train, or a "
                   "deepspeech.pytorch .ckpt (read directly; deepspeech-convert makes it one of ours)")
    p.add_argument("--lm", default=None, help="n-gram LM: .arpa, .arpa.gz (deepspeech-lm) or, with the "
                   "flashlight decoder, a KenLM binary; enables beam search")
    p.add_argument("--decoder", choices=("flashlight", "reference"), default=None,
                   help="LM beam search: flashlight-text (default) or our pure-Python reference decoder")
    p.add_argument("--lexicon", default=None, help="flashlight: word list to decode with (default: the ARPA's words)")
    p.add_argument("--workers", type=int, default=1, help="decoding processes for a test set (eval, tune)")
    p.add_argument("--beam", type=int, default=None, help="beam width (default: the checkpoint's config)")
    p.add_argument("--alpha", type=float, default=None, help="LM weight")
    p.add_argument("--beta", type=float, default=None, help="word insertion bonus")
    p.add_argument("--beam-threshold", type=float, default=None,
                   help="flashlight: per frame, drop hypotheses this far (natural log) below the best; 0 = off, "
                   "the exact beam (default: the checkpoint's config, 0)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--lang", choices=("en", "cmn"), default=None,
                   help="language the checkpoint must be (its saved vocabulary says); refused if it is not")


def _spec(args: argparse.Namespace, t: Transcriber, **fixed) -> DecoderSpec:
    """The decoder the flags ask for, on top of the checkpoint's decoder config."""
    given = {"beam_width": args.beam, "alpha": args.alpha, "beta": args.beta, "kind": args.decoder,
             "lexicon_path": args.lexicon, "lm_path": args.lm, "beam_threshold": args.beam_threshold, **fixed}
    dcfg = replace(t.cfg.decoder, **{k: v for k, v in given.items() if v is not None})
    return DecoderSpec.from_config(dcfg, t.cfg.model.vocab)


def _load(args: argparse.Namespace) -> Transcriber:
    """The checkpoint, refused (one line, exit 2) when its saved vocabulary is not in ``--lang``."""
    t = Transcriber.from_checkpoint(args.checkpoint, args.device)
    check_lang(args.lang, t.vocab, args.checkpoint)
    return t


def _transcriber(args: argparse.Namespace) -> Transcriber:
    t = _load(args)
    if args.lm:
        t.decoder = build_decoder(_spec(args, t))
    return t


def _run(body, argv: list[str] | None) -> int:
    try:
        return body(argv)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _transcribe(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(description="Transcribe audio files with a Deep Speech checkpoint.")
    p.add_argument("files", nargs="+", help="wav/flac files (16 kHz unless --resample)")
    _decoder_args(p)
    p.add_argument("--json", action="store_true",
                   help="print JSON lines with word timings (the decoded text aligned to its posteriors)")
    p.add_argument("--resample", action="store_true", help="resample other rates instead of refusing them")
    p.add_argument("--chunk-seconds", type=float, default=None,
                   help="long audio: read and run the model in chunks of this many seconds (memory bounded by "
                        "the chunk, not the file; deepspeech.streaming); default: the whole file at once")
    p.add_argument("--context-seconds", type=float, default=1.0,
                   help="with --chunk-seconds: audio seen on each side of a chunk, whose frames are not kept")
    args = p.parse_args(argv)
    t = _transcriber(args)
    for path in args.files:
        if args.chunk_seconds is not None:
            long = transcribe_long(t, path, chunk_s=args.chunk_seconds, context_s=args.context_seconds,
                                   keep_log_probs=args.json)
            lp, text = long.log_probs, long.text
        else:
            wav, sr = load_wav(path)
            lp = t.posteriors([wav], sr, allow_resample=args.resample)[0]
            text = t.decode(lp)
        if args.json:
            words = aligned_word_timings(lp, text, t.vocab, t.frame_seconds())  # timings of *this* text
            print(json.dumps({"file": path, "text": text, "words": words}))
        else:
            print(text)
    return 0


def _evaluate(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(description="Corpus WER/CER of a checkpoint on a manifest, worst utterances first.")
    p.add_argument("--manifest", required=True)
    _decoder_args(p)
    p.add_argument("--report", default=None, help="write the per-utterance report here (JSON)")
    p.add_argument("--worst", type=int, default=10, help="utterances to print")
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)
    t = _load(args)
    utts = load_eval_utterances(args.manifest, t.vocab)
    t.model.eval()
    posts = posteriors_of(t.model, t.cfg, utts, args.batch_size)
    hyps = decode_all(_spec(args, t), posts, args.workers) if args.lm else [t.decode(lp) for lp in posts]
    report = score([u.text for u in utts], hyps, vocab_lang(t.vocab))
    print(f"{args.manifest}: {report['n']} utterances  WER {_rate(report['wer'])}  CER {report['cer']:.4f}"
          f"  ({'beam+LM ' + args.lm if args.lm else 'greedy'})")
    for row in report["utterances"][: args.worst]:
        print(f"  [{row['word_errors']} err / {row['ref_words']} words] REF: {row['reference']}\n"
              f"  {'':>{len(str(row['word_errors'])) + 18}}HYP: {row['hypothesis']}")
    if args.report:
        atomic_write_text(Path(args.report), json.dumps(report, indent=1))
    return 0


def _tune(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(description="Grid-search the LM weight alpha and word bonus beta on a dev manifest.")
    p.add_argument("--manifest", required=True)
    _decoder_args(p)
    p.add_argument("--alphas", default="0,0.25,0.5,1,1.5,2", help="comma-separated alpha values")
    p.add_argument("--betas", default="0,0.5,1,2", help="comma-separated beta values")
    args = p.parse_args(argv)
    if not args.lm:
        p.error("--lm is required for tuning")
    t = _load(args)
    utts = load_eval_utterances(args.manifest, t.vocab)
    t.model.eval()
    posts = posteriors_of(t.model, t.cfg, utts)  # computed once, decoded per grid point
    lang = vocab_lang(t.vocab)
    metric = "cer" if lang == "cmn" else "wer"  # Mandarin is tuned and scored by CER (DS2 §3.9)
    best = None
    for alpha, beta in itertools.product(_floats(args.alphas), _floats(args.betas)):
        hyps = decode_all(_spec(args, t, alpha=alpha, beta=beta), posts, args.workers)
        result = score([u.text for u in utts], hyps, lang)
        print(f"alpha={alpha:<5g} beta={beta:<5g} WER {_rate(result['wer'])} CER {result['cer']:.4f}")
        if best is None or result[metric] < best[0]:
            best = (result[metric], alpha, beta)
    print(f"best: alpha={best[1]:g} beta={best[2]:g} {metric.upper()} {best[0]:.4f}")
    return 0


def _rate(value: float | None) -> str:
    """A rate for printing; None (WER of unsegmented Mandarin) is shown as n/a."""
    return "n/a" if value is None else f"{value:.4f}"


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {text!r}") from None


def transcribe_main(argv: list[str] | None = None) -> int:
    return _run(_transcribe, argv)


def eval_main(argv: list[str] | None = None) -> int:
    return _run(_evaluate, argv)


def tune_main(argv: list[str] | None = None) -> int:
    return _run(_tune, argv)
