"""One bad request cannot break the server: validation before batching, per-item retry, read deadlines,
a bounded connection pool, 405s, and a bounded loopback load test with a mix of good and bad clients."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time

import numpy as np
import pytest
from test_serving_http import SR, request, wav_body

from deepspeech.serving.audio import AudioLimits, RequestError, decode_wav
from deepspeech.serving.dispatcher import BatchDispatcher
from deepspeech.serving.httpd import ServeConfig, start_server


class FragileModel:
    """Like the real front end, it fails on audio shorter than one STFT window, for the whole batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, wavs):
        time.sleep(0.01)
        if any(len(w) < 400 for w in wavs):
            raise RuntimeError("input too short for the STFT")
        self.batches.append(len(wavs))
        return [f"{len(w)} samples" for w in wavs]


@pytest.fixture
def serve():
    handles = []

    def _start(model=None, **overrides):
        handle = start_server(model or FragileModel(), ServeConfig(port=0, **overrides))
        handles.append(handle)
        return handle

    yield _start
    for handle in handles:
        handle.close()


def test_audio_shorter_than_the_minimum_is_refused_before_it_joins_a_batch():
    with pytest.raises(RequestError, match=r"0\.003 s long.*at least 0\.1 s") as info:
        decode_wav(wav_body(50 / SR), AudioLimits())
    assert info.value.status == 400


def test_a_truncated_wav_is_a_400_naming_the_missing_bytes():
    body = wav_body(0.5)
    with pytest.raises(RequestError, match="truncated: its data chunk declares 16000 bytes but 15000 arrived"):
        decode_wav(body[:-1000], AudioLimits())


def test_a_failing_batch_is_retried_per_item_so_valid_requests_still_get_their_text():
    model = FragileModel()
    gate = threading.Event()

    def gated(wavs):
        gate.wait(5.0)
        return model(wavs)

    dispatcher = BatchDispatcher(gated, max_batch=16, max_wait_s=0.05)
    try:
        futures = [dispatcher.submit(np.zeros(n, dtype=np.float32)) for n in (1600, 50, 3200, 4800)]
        gate.set()
        with pytest.raises(RuntimeError, match="too short"):
            futures[1].result(5.0)
        assert [futures[i].result(5.0).text for i in (0, 2, 3)] == ["1600 samples", "3200 samples", "4800 samples"]
    finally:
        dispatcher.close()


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/transcribe", "POST"), ("POST", "/health", "GET"), ("PUT", "/transcribe", "POST"),
    ("DELETE", "/health", "GET"),
])
def test_a_wrong_method_is_405_with_the_allowed_one(serve, method, path, allow):
    handle = serve()
    conn = http.client.HTTPConnection("127.0.0.1", handle.port, timeout=5)
    conn.request(method, path, body=b"x" if method != "GET" else None)
    response = conn.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, allow)
    assert f"use {allow} {path}" in json.loads(response.read())["error"]
    conn.close()


def _trickle(port: int, every_s: float, total_s: float) -> tuple[int | None, float]:
    """Send the headers of a 16 kB upload, then one byte every ``every_s``; return (status, seconds)."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n"
                     b"Content-Length: 16044\r\n\r\n")
        try:
            while time.perf_counter() - start < total_s:
                sock.sendall(b"R")
                time.sleep(every_s)
        except OSError:
            pass
        try:
            reply = sock.recv(65536)
        except OSError:
            reply = b""
    status = int(reply.split()[1]) if reply.startswith(b"HTTP/") else None
    return status, time.perf_counter() - start


def test_a_client_trickling_its_body_is_cut_at_the_total_read_deadline(serve):
    handle = serve(read_deadline_s=1.0, read_timeout_s=30.0)
    status, seconds = _trickle(handle.port, every_s=0.2, total_s=2.0)
    assert status == 408 and seconds < 3.0
    assert request(handle.port, "GET", "/health")[0] == 200


def test_connections_beyond_the_pool_get_503_and_a_freed_slot_serves_again(serve):
    handle = serve(max_connections=2, read_deadline_s=5.0)
    idle = [socket.create_connection(("127.0.0.1", handle.port), timeout=5) for _ in range(2)]
    time.sleep(0.2)
    status, payload = request(handle.port, "POST", "/transcribe", wav_body(0.5))
    assert status == 503 and "2 connections already open" in payload["error"]
    for sock in idle:
        sock.close()
    time.sleep(0.2)
    assert request(handle.port, "POST", "/transcribe", wav_body(0.5))[0] == 200


def _valid_client(port: int, seconds: float, results: list) -> None:
    """A well-behaved client: retries a 503 (server busy) a few times, as its Retry-After invites."""
    for _ in range(40):
        status, payload = request(port, "POST", "/transcribe", wav_body(seconds))
        if status != 503:
            results.append((status, payload.get("text"), int(seconds * SR)))
            return
        time.sleep(0.05)
    results.append((503, None, int(seconds * SR)))


def test_a_mixed_load_of_valid_tiny_truncated_slow_and_oversize_requests_answers_every_valid_one(serve):
    model = FragileModel()
    handle = serve(model, max_connections=12, read_deadline_s=1.0, max_batch=8, max_wait_ms=20.0,
                   limits=AudioLimits(max_seconds=1.0, max_bytes=64 * 1024))
    port, rng = handle.port, random.Random(0)
    valid: list = []
    bad: list = []
    peak = [0]
    stop = threading.Event()

    def watch_threads():
        while not stop.is_set():
            peak[0] = max(peak[0], sum("process_request_thread" in t.name for t in threading.enumerate()))
            time.sleep(0.01)

    def bad_client(kind: str):
        if kind == "tiny":
            bad.append((kind, request(port, "POST", "/transcribe", wav_body(50 / SR))[0]))
        elif kind == "truncated":
            bad.append((kind, request(port, "POST", "/transcribe", wav_body(0.5)[:-2000])[0]))
        elif kind == "oversize":
            bad.append((kind, request(port, "POST", "/transcribe", wav_body(3.0))[0]))
        else:
            bad.append((kind, _trickle(port, every_s=0.3, total_s=2.5)[0]))

    kinds = ["valid"] * 30 + ["tiny"] * 6 + ["truncated"] * 6 + ["slow"] * 4 + ["oversize"] * 4
    rng.shuffle(kinds)
    threads = [threading.Thread(target=watch_threads)]
    for kind in kinds:
        if kind == "valid":
            threads.append(threading.Thread(target=_valid_client, args=(port, rng.uniform(0.2, 0.9), valid)))
        else:
            threads.append(threading.Thread(target=bad_client, args=(kind,)))
    start = time.perf_counter()
    for t in threads:
        t.start()
        time.sleep(0.005)
    for t in threads[1:]:
        t.join(20.0)
    stop.set()
    threads[0].join()
    assert time.perf_counter() - start < 20.0
    assert len(valid) == 30 and all(s == 200 and text == f"{n} samples" for s, text, n in valid), valid
    expected = {"tiny": {400}, "truncated": {400}, "oversize": {413}, "slow": {408, 503}}
    assert all(status in expected[kind] for kind, status in bad), bad
    assert 0 < peak[0] <= 12  # never more handler threads than the pool allows
    assert request(port, "GET", "/health")[0] == 200
