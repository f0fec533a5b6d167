"""``deepspeech-serve``: load a checkpoint and answer ``POST /transcribe`` with Batch Dispatch (DS2 §7).

    deepspeech-serve --checkpoint runs/tiny/last.pt [--host 127.0.0.1] [--port 8000]
                     [--max-batch 16] [--max-wait-ms 10] [--no-batching]
    curl --data-binary @utt.wav -H 'Content-Type: audio/wav' http://127.0.0.1:8000/transcribe
    # {"text": "...", "latency_ms": 41.2, "batch_size": 3, "queue_ms": 9.8, "compute_ms": 30.1}

Ctrl-C or SIGTERM stops it cleanly: no new connections, the batch in flight finishes, the port is freed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

import numpy as np

from deepspeech.serving.audio import AudioLimits
from deepspeech.serving.httpd import ServeConfig, start_server

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every default is printed by ``--help``."""
    p = argparse.ArgumentParser(
        prog="deepspeech-serve", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="HTTP transcription server that batches concurrent requests (Deep Speech 2 Batch Dispatch).",
    )
    p.add_argument("--checkpoint", required=True, help="model checkpoint (.pt) written by deepspeech training")
    p.add_argument("--device", default=None, help="cpu / cuda / cuda:1; unset = cuda when present, else cpu")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind; 0.0.0.0 exposes it to the network")
    p.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one")
    p.add_argument("--max-batch", type=int, default=16, help="most requests in one forward pass")
    p.add_argument("--max-wait-ms", type=float, default=10.0,
                   help="after a batch's first request, wait this long for more (0 = purely eager)")
    p.add_argument("--no-batching", action="store_true", help="one request per forward pass (max batch 1)")
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest accepted audio, in seconds")
    p.add_argument("--max-bytes", type=int, default=2 * 1024 * 1024, help="largest accepted request body")
    p.add_argument("--min-seconds", type=float, default=0.1, help="shortest accepted audio, in seconds")
    p.add_argument("--max-queue", type=int, default=256, help="queued requests beyond this get 503")
    p.add_argument("--max-connections", type=int, default=64,
                   help="connections served at once (one thread each); more get 503")
    p.add_argument("--read-deadline-s", type=float, default=30.0,
                   help="a request (headers and body) must arrive whole within this; slower clients get 408")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    return p


def config_from_args(args: argparse.Namespace, sample_rate: int = 16000) -> ServeConfig:
    """Translate parsed flags into a :class:`ServeConfig` (``--no-batching`` means max batch 1)."""
    limits = AudioLimits(sample_rate=sample_rate, max_seconds=args.max_seconds, max_bytes=args.max_bytes,
                         min_seconds=args.min_seconds)
    return ServeConfig(
        host=args.host, port=args.port, max_batch=1 if args.no_batching else args.max_batch,
        max_wait_ms=0.0 if args.no_batching else args.max_wait_ms, max_queue=max(args.max_queue, args.max_batch),
        max_connections=args.max_connections, read_deadline_s=args.read_deadline_s, limits=limits,
    )


def load_transcriber(checkpoint: str, device: str | None):
    """Load the model once, and run one short utterance so the first real request pays no warm-up."""
    import torch

    from deepspeech.infer import Transcriber  # imported here so `--help` stays instant

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    transcriber = Transcriber.from_checkpoint(checkpoint, device)
    noise = np.random.default_rng(0).normal(0.0, 1e-3, 8000).astype(np.float32)  # not silence: std 0
    transcriber.transcribe_batch([noise])
    return transcriber


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config_from_args(args)
    except ValueError as err:
        parser.error(str(err))  # one line naming the setting, exit status 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    transcriber = load_transcriber(args.checkpoint, args.device)
    sample_rate = int(getattr(transcriber, "sample_rate", 16000))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with start_server(transcriber.transcribe_batch, config_from_args(args, sample_rate)) as handle:
        print(f"deepspeech-serve: listening on {handle.url} (POST /transcribe, GET /health); Ctrl-C stops",
              flush=True)
        stop.wait()
        print("deepspeech-serve: shutting down", flush=True)
