"""The HTTP server, exercised with real requests on 127.0.0.1 (ephemeral port) and a stand-in model."""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from deepspeech.serving.audio import AudioLimits, RequestError, check_content_type, decode_wav
from deepspeech.serving.httpd import ServeConfig, start_server
from deepspeech.serving.server import build_parser, config_from_args

SR = 16000


def wav_body(seconds: float = 0.25, sr: int = SR, channels: int = 1, subtype: str = "PCM_16") -> bytes:
    rng = np.random.default_rng(0)
    data = (0.1 * rng.standard_normal((int(seconds * sr), channels))).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, data, sr, subtype=subtype, format="WAV")
    return buffer.getvalue()


class SlowModel:
    """Costs 30 ms per forward regardless of batch size, so concurrent requests visibly share batches."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.batches: list[int] = []

    def __call__(self, wavs):
        time.sleep(0.03)
        self.batches.append(len(wavs))
        if self.fail:
            raise RuntimeError("model exploded")
        return [f"{len(w)} samples" for w in wavs]


@pytest.fixture
def serve():
    handles = []

    def _start(model=None, **overrides):
        config = ServeConfig(port=0, **{"max_wait_ms": 20.0, **overrides})
        handle = start_server(model or SlowModel(), config)
        handles.append(handle)
        return handle

    yield _start
    for handle in handles:
        handle.close()


def request(port: int, method: str, path: str, body: bytes | None = None,
            content_type: str = "audio/wav") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": content_type} if body is not None else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def raw_request(port: int, data: bytes) -> tuple[int, dict]:
    """Send hand-made bytes (headers the http.client would never produce) and parse the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


# --- the wire format -------------------------------------------------------------------------------------

def test_a_16khz_mono_16bit_wav_decodes_to_float32_samples():
    audio = decode_wav(wav_body(0.5), AudioLimits())
    assert audio.dtype == np.float32 and audio.shape == (8000,) and 0 < np.abs(audio).max() <= 1


@pytest.mark.parametrize(("body", "status", "fragment"), [
    (wav_body(sr=8000), 400, "8000 Hz but the model needs 16000 Hz"),
    (wav_body(channels=2), 400, "2 channels"),
    (wav_body(subtype="FLOAT"), 400, "16-bit PCM"),
    (b"RIFF\x00\x00\x00\x00WAVEnot really a wav file at all", 400, "corrupt"),
    (b"", 400, "empty request body"),
    (wav_body(seconds=0.0), 400, "0 samples"),
    (wav_body(seconds=2.0), 413, "at most 1 s"),
])
def test_bad_audio_is_a_client_error_that_says_what_to_send(body, status, fragment):
    with pytest.raises(RequestError, match=fragment) as info:
        decode_wav(body, AudioLimits(max_seconds=1.0))
    assert info.value.status == status


def test_only_wav_content_types_are_accepted():
    check_content_type("audio/wav; charset=binary")
    check_content_type("application/octet-stream")
    with pytest.raises(RequestError, match="Content-Type 'text/plain' is not supported") as info:
        check_content_type("text/plain")
    assert info.value.status == 415


# --- the server ------------------------------------------------------------------------------------------

def test_health_reports_the_batching_settings(serve):
    handle = serve(max_batch=7)
    status, payload = request(handle.port, "GET", "/health")
    assert status == 200 and payload["status"] == "ok" and payload["max_batch"] == 7
    assert payload["sample_rate"] == SR


def test_a_valid_wav_gets_its_text_latency_and_batch_size(serve):
    handle = serve()
    status, payload = request(handle.port, "POST", "/transcribe", wav_body(0.25))
    assert status == 200
    assert payload["text"] == "4000 samples" and payload["batch_size"] == 1
    assert payload["latency_ms"] >= payload["compute_ms"] >= 25


def test_concurrent_requests_are_answered_from_shared_batches(serve):
    model = SlowModel()
    handle = serve(model, max_batch=16, max_wait_ms=50.0)
    results: list[tuple[int, dict]] = []
    lengths = [0.1 + 0.01 * i for i in range(8)]
    threads = [threading.Thread(target=lambda s=s: results.append(
        request(handle.port, "POST", "/transcribe", wav_body(s)))) for s in lengths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8 and all(status == 200 for status, _ in results)
    assert sorted(p["text"] for _, p in results) == sorted(f"{int(s * SR)} samples" for s in lengths)
    assert max(p["batch_size"] for _, p in results) > 1
    assert len(model.batches) < 8 and sum(model.batches) == 8


def test_no_batching_answers_every_request_alone(serve):
    handle = serve(max_batch=1, max_wait_ms=0.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        request(handle.port, "POST", "/transcribe", wav_body(0.1)))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [p["batch_size"] for _, p in results] == [1, 1, 1, 1]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), [
    (wav_body(sr=44100), "audio/wav", 400, "44100 Hz"),
    (b"\x00\x01garbage" * 100, "audio/wav", 400, "cannot decode"),
    (wav_body(), "application/json", 415, "Content-Type"),
    (wav_body(seconds=1.5), "audio/wav", 413, "at most 1 s"),
    (wav_body(seconds=0.1) + b"\x00" * 70000, "audio/x-wav", 413, "at most 60000 (raise --max-bytes"),
])
def test_bad_requests_get_a_4xx_message_and_the_server_keeps_serving(serve, body, content_type, status, fragment):
    handle = serve(limits=AudioLimits(max_seconds=1.0, max_bytes=60000))
    got, payload = request(handle.port, "POST", "/transcribe", body, content_type)
    assert got == status and fragment in payload["error"]
    assert request(handle.port, "POST", "/transcribe", wav_body(0.1))[0] == 200


def test_unknown_paths_are_404(serve):
    handle = serve()
    assert request(handle.port, "GET", "/nope")[0] == 404
    assert request(handle.port, "POST", "/nope", wav_body())[0] == 404


def test_missing_content_length_and_truncated_bodies_are_refused(serve):
    handle = serve(read_timeout_s=2.0)
    status, payload = raw_request(handle.port, b"POST /transcribe HTTP/1.1\r\nHost: x\r\n"
                                               b"Content-Type: audio/wav\r\n\r\n")
    assert status == 411 and "Content-Length" in payload["error"]
    status, payload = raw_request(handle.port, b"POST /transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav"
                                               b"\r\nContent-Length: 5000\r\n\r\nRIFF....")
    assert status == 400 and "ended after 8 of 5000 bytes" in payload["error"]
    assert request(handle.port, "POST", "/transcribe", wav_body(0.1))[0] == 200


def test_a_model_failure_is_a_500_for_that_request_only(serve):
    model = SlowModel(fail=True)
    handle = serve(model)
    status, payload = request(handle.port, "POST", "/transcribe", wav_body(0.1))
    assert status == 500 and "model exploded" in payload["error"]
    model.fail = False
    assert request(handle.port, "POST", "/transcribe", wav_body(0.1))[0] == 200


def test_close_stops_serving_and_frees_the_port():
    handle = start_server(SlowModel(), ServeConfig(port=0))
    port = handle.port
    assert request(port, "GET", "/health")[0] == 200
    handle.close()
    with pytest.raises(OSError):
        request(port, "GET", "/health")
    again = start_server(SlowModel(), ServeConfig(port=port))  # the port is reusable at once
    again.close()


def test_the_command_line_maps_no_batching_to_max_batch_one():
    args = build_parser().parse_args(["--checkpoint", "x.pt", "--no-batching", "--max-seconds", "5"])
    config = config_from_args(args)
    assert config.max_batch == 1 and config.host == "127.0.0.1" and config.limits.max_seconds == 5
    assert config_from_args(build_parser().parse_args(["--checkpoint", "x.pt"])).max_batch == 16
