"""Bounded load test: batched vs unbatched serving at 1, 4, 10 and 20 concurrent streams (DS2 §7, Fig. 8).

A batched and an unbatched server are started in this process on 127.0.0.1 (ephemeral ports); at each
stream count, each server in turn gets that many client threads, which send the same WAV back to back
over keep-alive connections until the setting's fixed request count is reached or its time cap passes.
Every run therefore stops by itself, and nothing leaves the loopback interface. Latency is measured at
the client (send to full reply), so it includes queueing, batching delay, the forward pass and HTTP.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from deepspeech.serving.dispatcher import TranscribeBatch
from deepspeech.serving.httpd import ServeConfig, start_server

STREAMS = (1, 4, 10, 20)


@dataclass
class SettingResult:
    """What one (mode, streams) setting measured."""

    mode: str
    streams: int
    elapsed_s: float
    audio_seconds: float  # length of the one utterance every request sends
    latencies_ms: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def requests_per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def audio_per_s(self) -> float:
        """Seconds of audio transcribed per wall-clock second (the serving analogue of 1 / RTF)."""
        return self.requests_per_s * self.audio_seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def mean_batch(self) -> float:
        return float(np.mean(self.batch_sizes)) if self.batch_sizes else float("nan")

    def extend(self, part: SettingResult) -> None:
        """Add another round of the same setting (times add up, samples pool)."""
        self.elapsed_s += part.elapsed_s
        self.latencies_ms += part.latencies_ms
        self.batch_sizes += part.batch_sizes
        self.errors += part.errors


def synthetic_utterance(seconds: float, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A deterministic speech-like test signal: voiced harmonics under a syllable-rate envelope, plus noise.

    Its content does not matter for timing (the model does the same work for any audio of this length);
    it only has to be a valid, non-silent 16-bit WAV.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 120.0 + 20.0 * np.sin(2 * np.pi * 0.7 * t)  # Hz, a slowly gliding pitch
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))  # ~4 syllables per second
    wav = 0.3 * envelope * voiced / 3.0 + 0.01 * rng.standard_normal(t.size)
    return np.clip(wav, -1.0, 1.0).astype(np.float32)


def wav_bytes(wav: np.ndarray, sample_rate: int = 16000) -> bytes:
    """Encode ``wav`` as the 16-bit PCM mono WAV body the server expects."""
    buffer = io.BytesIO()
    sf.write(buffer, wav, sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def post_wav(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, dict]:
    """POST one WAV to /transcribe on an open connection; returns (status, decoded JSON)."""
    conn.request("POST", "/transcribe", body=body, headers={"Content-Type": "audio/wav"})
    response = conn.getresponse()
    payload = json.loads(response.read().decode("utf-8"))
    return response.status, payload


def drive(port: int, body: bytes, streams: int, n_requests: int, duration_s: float,
          audio_seconds: float, mode: str = "") -> SettingResult:
    """Run ``streams`` client threads against 127.0.0.1:``port`` until ``n_requests`` or ``duration_s``."""
    result = SettingResult(mode, streams, 0.0, audio_seconds)
    lock = threading.Lock()
    issued = [0]
    start = time.perf_counter()
    deadline = start + duration_s

    def claim() -> bool:
        with lock:
            if issued[0] >= n_requests or time.perf_counter() >= deadline:
                return False
            issued[0] += 1
            return True

    def stream() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=max(duration_s, 10.0) + 30.0)
        try:
            while claim():
                sent = time.perf_counter()
                try:
                    status, payload = post_wav(conn, body)
                except (OSError, http.client.HTTPException, ValueError) as err:
                    status, payload = -1, {"error": f"{type(err).__name__}: {err}"}
                    conn.close()  # reconnects on the next request
                latency_ms = (time.perf_counter() - sent) * 1000.0
                with lock:
                    if status == 200:
                        result.latencies_ms.append(latency_ms)
                        result.batch_sizes.append(int(payload["batch_size"]))
                    else:
                        result.errors.append(f"{status}: {payload.get('error', payload)}")
        finally:
            conn.close()

    threads = [threading.Thread(target=stream, name=f"stream-{i}") for i in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - start
    return result


def run_loadtest(transcribe_batch: TranscribeBatch, wav: np.ndarray, *, sample_rate: int = 16000,
                 streams: Sequence[int] = STREAMS, n_requests: int = 60, duration_s: float = 30.0,
                 max_batch: int = 16, max_wait_ms: float = 10.0, rounds: int = 1) -> list[SettingResult]:
    """Batched and unbatched (max batch 1) loopback servers side by side, driven in turn at each stream count.

    Each setting's ``n_requests`` (and ``duration_s`` cap) are split into ``rounds`` parts, and the two
    servers take turns part by part, so a change in outside load on a shared machine shifts both columns
    of a row alike. Only one server is driven at a time, so the model never runs in both dispatchers at
    once. Rows come back grouped by mode.
    """
    body = wav_bytes(wav, sample_rate)
    audio_seconds = len(wav) / sample_rate
    modes = {"batched": (max_batch, max_wait_ms), "unbatched": (1, 0.0)}
    results = {mode: [SettingResult(mode, n, 0.0, audio_seconds) for n in streams] for mode in modes}
    shares = [n_requests // rounds + (i < n_requests % rounds) for i in range(rounds)]
    with contextlib.ExitStack() as stack:
        ports = {}
        for mode, (batch, wait_ms) in modes.items():
            config = ServeConfig(host="127.0.0.1", port=0, max_batch=batch, max_wait_ms=wait_ms,
                                 max_queue=max(256, 2 * max(streams)))
            ports[mode] = stack.enter_context(start_server(transcribe_batch, config)).port
            drive(ports[mode], body, 1, 2, duration_s, audio_seconds)  # warm-up: connection, allocator
        for i, n_streams in enumerate(streams):
            for share in filter(None, shares):
                for mode, port in ports.items():
                    part = drive(port, body, n_streams, share, duration_s / rounds, audio_seconds, mode)
                    results[mode][i].extend(part)
    return [r for mode in modes for r in results[mode]]


def markdown_table(results: Sequence[SettingResult]) -> str:
    """One row per (mode, streams), then the batched/unbatched throughput ratio per stream count."""
    lines = [
        "| serving | streams | requests | errors | req/s | audio s/s | p50 ms | p98 ms | mean batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.mode} | {r.streams} | {r.completed} | {len(r.errors)} | {r.requests_per_s:.1f} | "
                     f"{r.audio_per_s:.1f} | {r.percentile_ms(50):.0f} | {r.percentile_ms(98):.0f} | "
                     f"{r.mean_batch:.1f} |")
    by_key = {(r.mode, r.streams): r for r in results}
    ratios = []
    for (mode, n), r in by_key.items():
        base = by_key.get(("unbatched", n))
        if mode == "batched" and base is not None and base.requests_per_s > 0:
            ratios.append(f"{n} streams {r.requests_per_s / base.requests_per_s:.2f}x")
    if ratios:
        lines += ["", "Throughput batched / unbatched: " + ", ".join(ratios) + "."]
    return "\n".join(lines) + "\n"
