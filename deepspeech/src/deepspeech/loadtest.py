"""``python -m deepspeech.loadtest``: batched vs unbatched serving throughput and latency (DS2 §7).

    python -m deepspeech.loadtest --checkpoint runs/tiny/last.pt [--requests 60] [--duration 30]
        [--streams 1,4,10,20] [--rounds 3] [--audio-seconds 1.5 | --audio utt.wav] [--out loadtest.md]

Loopback only, a fixed request count and a time cap per setting: it always stops by itself. The table is
printed and written (atomically) to ``--out``. The work lives in :mod:`deepspeech.serving.loadtest`.
"""

from __future__ import annotations

import argparse
import logging

from deepspeech.serving.loadtest import STREAMS, markdown_table, run_loadtest, synthetic_utterance
from deepspeech.serving.server import load_transcriber
from ninerepro import envinfo
from ninerepro.atomic import atomic_write_text
from ninerepro.audio import load_wav


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deepspeech.loadtest",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter, description=__doc__)
    p.add_argument("--checkpoint", required=True, help="model checkpoint (.pt) to serve")
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda when present)")
    p.add_argument("--requests", type=int, default=60, help="requests per (mode, streams) setting")
    p.add_argument("--duration", type=float, default=30.0, help="time cap per setting, seconds")
    p.add_argument("--streams", default=",".join(map(str, STREAMS)), help="comma-separated stream counts")
    p.add_argument("--audio-seconds", type=float, default=1.5, help="length of the synthetic test utterance")
    p.add_argument("--audio", default=None, help="a 16 kHz WAV to send instead of the synthetic utterance")
    p.add_argument("--rounds", type=int, default=3,
                   help="split each setting into this many parts, batched and unbatched taking turns")
    p.add_argument("--max-batch", type=int, default=16, help="batched mode: most requests per forward")
    p.add_argument("--max-wait-ms", type=float, default=10.0, help="batched mode: wait for more requests")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--out", default="loadtest.md", help="markdown file for the table")
    return p


def run_header(args: argparse.Namespace, seconds: float, env: dict[str, str]) -> str:
    """What was measured and where, as the paragraph above the table."""
    return (f"Load test, {env['date']}: checkpoint `{args.checkpoint}`, {seconds:.2f} s utterance, "
            f"{args.requests} requests and {args.duration:g} s cap per setting in {args.rounds} alternating "
            f"rounds; batched = max batch {args.max_batch} / max wait {args.max_wait_ms:g} ms, unbatched = "
            f"max batch 1. Device: {env['device']}, load average {env['load']}; torch {env['torch']}; "
            f"git {env['git']}. Latency at the client (p50/p98 over the setting's requests).\n\n")


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    streams = [int(s) for s in args.streams.split(",") if s.strip()]
    if args.requests < 1 or args.duration <= 0 or not streams or min(streams) < 1 or args.rounds < 1:
        raise SystemExit("--requests and --rounds must be >= 1, --duration > 0 and --streams positive integers, "
                         "e.g. 1,4,10,20")
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    transcriber = load_transcriber(args.checkpoint, args.device)
    sample_rate = int(getattr(transcriber, "sample_rate", 16000))
    wav = load_wav(args.audio, sr=sample_rate)[0] if args.audio else synthetic_utterance(args.audio_seconds,
                                                                                         sample_rate)
    results = run_loadtest(transcriber.transcribe_batch, wav, sample_rate=sample_rate, streams=streams,
                           n_requests=args.requests, duration_s=args.duration, max_batch=args.max_batch,
                           max_wait_ms=args.max_wait_ms, rounds=args.rounds)
    env = envinfo.describe(str(getattr(transcriber, "device", args.device or "cpu")))
    header = run_header(args, len(wav) / sample_rate, env)
    text = header + markdown_table(results)
    print(text, end="")
    atomic_write_text(args.out, text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
