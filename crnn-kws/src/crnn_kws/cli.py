"""Command lines: crnn-kws-eval, crnn-kws-listen, crnn-kws-export (and the guard crnn-kws-train uses).

Errors a user can fix (missing file, wrong sample rate, stereo audio, a clip shorter than the window, an empty
negative set, a threshold grid that never meets the target, a checkpoint from another feature setting) are
printed as one line naming the file and the fix, with exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from crnn_kws.metrics import alarm_steps
from ninerepro.atomic import atomic_write_text
from ninerepro.audio import AudioFileError
from ninerepro.train.checkpoint import CheckpointError

USER_ERRORS = (FileNotFoundError, FileExistsError, ValueError, CheckpointError, AudioFileError)


def run_guarded(body: Callable[[list[str] | None], int], argv: list[str] | None) -> int:
    """Run ``body``; a user error becomes one stderr line and exit status 2 (unless --debug is given)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
        return body(argv)
    try:
        return body(argv)
    except USER_ERRORS as e:
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint file or run folder from crnn-kws-train")
    p.add_argument("--device", default="cpu")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")


def _listen(argv: list[str] | None) -> int:
    from crnn_kws.detector import Detector, read_mono

    p = argparse.ArgumentParser(description="Stream a wav file (or raw 16-bit mono PCM on stdin with '-') through "
                                "the detector and print one line per alarm.")
    p.add_argument("source", help="wav file, '-' for s16le PCM on stdin, or 'mic' (needs sounddevice)")
    _common(p)
    p.add_argument("--threshold", type=float, default=0.5, help="alarm threshold on the smoothed posterior")
    p.add_argument("--stream", action="store_true", help="unidirectional checkpoints: carry GRU state hop by hop")
    args = p.parse_args(argv)
    det = Detector.from_checkpoint(args.checkpoint, args.device)
    feats, ev = det.cfg.features, det.cfg.eval
    if args.source == "mic":
        from crnn_kws.microphone import record

        wav = record(feats.sample_rate)
    elif args.source == "-":
        wav = np.frombuffer(sys.stdin.buffer.read(), dtype="<i2").astype(np.float32) / 32768.0
        if len(wav) < feats.window_samples:
            raise AudioFileError(f"stdin: {len(wav) / feats.sample_rate:.2f} s of audio is shorter than one "
                                 f"{feats.window_s} s window; send s16le mono PCM at {feats.sample_rate} Hz")
    else:
        wav = read_mono(args.source, feats, feats.window_samples)
    if args.stream:
        from crnn_kws.streaming import StreamingDetector

        scores = StreamingDetector(det.model, det.cfg).scores(wav)
    else:
        scores = det.scores(wav)
    # both forms give their first decision once one window of audio is in; decisions are hop_s apart
    for t in alarm_steps(scores, ev.smooth_window, args.threshold, ev.refractory_steps(feats.hop_s)):
        print(f"{args.source}: keyword at {feats.window_s + t * det.hop_s:.2f} s (score {scores[t]:.3f})")
    return 0


def _evaluate(argv: list[str] | None) -> int:
    from crnn_kws.detector import Detector

    p = argparse.ArgumentParser(description="Wake-word checkpoints: FRR at the target FA/h per SNR on a corpus' "
                                "test split. Speech Commands checkpoints: 12-class accuracy on the test split.")
    _common(p)
    p.add_argument("--corpus", required=True, help="corpus folder (crnn_kws.corpus) or Speech Commands folder")
    p.add_argument("--negative-minutes", type=float, default=10.0, help="keyword-free audio per SNR")
    p.add_argument("--split", default="test", choices=["validation", "test"], help="speech_commands only")
    p.add_argument("--report", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    det = Detector.from_checkpoint(args.checkpoint, args.device)
    if det.cfg.data.task == "speech_commands":
        from crnn_kws.commands import CommandsSplit, evaluate_commands

        result = evaluate_commands(det.model.cpu(), det.cfg.features,
                                   CommandsSplit.load(args.corpus, args.split, det.cfg.features.sample_rate))
        print(f"Speech Commands v2 12-class {args.split} accuracy: {100 * result['accuracy']:.2f} % "
              f"({result['n']} clips)")
    else:
        result = _wake_word_results(det, args.corpus, args.negative_minutes)
    if args.report:
        atomic_write_text(Path(args.report), json.dumps(result, indent=1) + "\n")
    return 0


def _wake_word_results(det, corpus: str, negative_minutes: float) -> list[dict]:
    """FRR at the target FA/h per SNR, one printed line each (the DET points go into the JSON)."""
    from crnn_kws.data import SplitAudio
    from crnn_kws.evaluate import evaluate_condition

    cfg = det.cfg
    audio = SplitAudio.load(corpus, "test", cfg.features.sample_rate, cfg.data.max_speech_files)
    results = [evaluate_condition(det, audio, snr, 60 * negative_minutes, 0) for snr in cfg.eval.snrs_db]
    for r in results:
        frr = "no threshold meets the target" if r["frr"] is None else f"FRR {100 * r['frr']:.1f} %"
        print(f"{r['snr_db']:g} dB: {frr} at {cfg.eval.target_fa_per_hour:g} FA/h "
              f"({r['negative_hours']:.2f} h negatives, {r['positives']} positives)")
    return results


def _export(argv: list[str] | None) -> int:
    from crnn_kws.detector import Detector
    from crnn_kws.export import export_onnx

    p = argparse.ArgumentParser(description="Export the CRNN (features -> posteriors) to ONNX, checked with "
                                "onnxruntime against PyTorch.")
    _common(p)
    p.add_argument("--out", required=True, help="the .onnx file to write")
    args = p.parse_args(argv)
    det = Detector.from_checkpoint(args.checkpoint, args.device)
    err = export_onnx(det.model, det.cfg.features, Path(args.out))
    print(f"{args.out}: max |onnxruntime - torch| = {err:.2e}")
    return 0


def listen_main(argv: list[str] | None = None) -> int:
    return run_guarded(_listen, argv)


def eval_main(argv: list[str] | None = None) -> int:
    return run_guarded(_evaluate, argv)


def export_main(argv: list[str] | None = None) -> int:
    return run_guarded(_export, argv)


if __name__ == "__main__":  # `python -m crnn_kws.cli eval|listen|export ...`, for Makefiles without the scripts
    ENTRY = {"eval": eval_main, "listen": listen_main, "export": export_main}
    if len(sys.argv) < 2 or sys.argv[1] not in ENTRY:
        print(f"usage: python -m crnn_kws.cli {{{','.join(ENTRY)}}} ...", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(ENTRY[sys.argv[1]](sys.argv[2:]))
