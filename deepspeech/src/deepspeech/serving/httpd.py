"""The HTTP face of the Batch Dispatch server: ``POST /transcribe`` (a WAV body) and ``GET /health``.

Standard-library ``ThreadingHTTPServer``: one thread per connection reads and checks the request, hands
the audio to the :class:`~deepspeech.serving.dispatcher.BatchDispatcher` and waits for its answer. Client
mistakes become 4xx JSON ``{"error": ...}`` replies; a failing batch becomes 500 for the requests in it;
nothing a client sends can stop the server. Replies are HTTP/1.1 with Content-Length, so a load-test
client can keep its connection open between requests.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from deepspeech.serving.audio import AudioLimits, RequestError, check_content_type, decode_wav
from deepspeech.serving.dispatcher import BatchDispatcher, DispatcherClosed, QueueFull, TranscribeBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``deepspeech-serve`` can be told; the defaults keep the server on loopback."""

    host: str = "127.0.0.1"  # loopback unless the operator opens it up on purpose
    port: int = 8000  # 0 = an ephemeral port chosen by the OS (tests, load test)
    max_batch: int = 16  # 1 = unbatched serving, the paper's baseline
    max_wait_ms: float = 10.0  # wait for more requests once a batch's first has arrived; 0 = purely eager
    max_queue: int = 256  # queued requests beyond this get 503 instead of unbounded memory growth
    request_timeout_s: float = 60.0  # a request not answered by then gets 503
    read_timeout_s: float = 30.0  # a client that stalls mid-body is dropped after this
    limits: AudioLimits = field(default_factory=AudioLimits)


class TranscriptionServer(ThreadingHTTPServer):
    """Holds what request handlers need: the dispatcher and the serving limits."""

    daemon_threads = True  # idle keep-alive connections must not block shutdown
    request_queue_size = 128  # listen backlog: 20 streams connecting at once must not be refused

    def __init__(self, config: ServeConfig, dispatcher: BatchDispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher
        super().__init__((config.host, config.port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: TranscriptionServer
    protocol_version = "HTTP/1.1"
    # the reply goes out as two writes (headers, then body); with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers, adding ~40 ms to every keep-alive request
    disable_nagle_algorithm = True

    def setup(self) -> None:
        self.timeout = self.server.config.read_timeout_s  # socket timeout for every read on this connection
        super().setup()

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/health":
            self._reply(404, {"error": f"no such path {self.path!r}; use POST /transcribe or GET /health"})
            return
        cfg = self.server.config
        self._reply(200, {"status": "ok", "max_batch": cfg.max_batch, "max_wait_ms": cfg.max_wait_ms,
                          "sample_rate": cfg.limits.sample_rate, "max_seconds": cfg.limits.max_seconds})

    def do_POST(self) -> None:
        start = time.perf_counter()
        try:
            if self.path.split("?", 1)[0] != "/transcribe":
                raise RequestError(404, f"no such path {self.path!r}; POST the WAV to /transcribe")
            audio = decode_wav(self._read_body(), self.server.config.limits)
            result = self._transcribe(audio)
        except RequestError as err:
            self._reply(err.status, {"error": err.message})
            return
        latency_ms = (time.perf_counter() - start) * 1000.0
        self._reply(200, {"text": result.text, "latency_ms": round(latency_ms, 3), "batch_size": result.batch_size,
                          "queue_ms": round(result.queue_ms, 3), "compute_ms": round(result.compute_ms, 3)})

    def _read_body(self) -> bytes:
        """Check the headers before reading a byte, so an oversize upload is refused without buffering it."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise RequestError(411, "chunked uploads are not supported; send a Content-Length header")
        check_content_type(self.headers.get("Content-Type"))
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            self.close_connection = True
            raise RequestError(411, "missing Content-Length header; send the WAV file as the request body")
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise RequestError(400, f"Content-Length {raw_length!r} is not a non-negative integer") from None
        max_bytes = self.server.config.limits.max_bytes
        if length > max_bytes:
            self.close_connection = True  # the body is not kept: this connection is done after the reply
            self._discard(length)
            raise RequestError(413, f"body is {length} bytes; this server accepts at most {max_bytes} "
                                    f"(raise --max-bytes, or send shorter audio)")
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            raise RequestError(408, "timed out reading the request body") from None
        if len(body) != length:
            self.close_connection = True
            raise RequestError(400, f"body ended after {len(body)} of {length} bytes (Content-Length)")
        return body

    def _discard(self, length: int, limit: int = 8 * 1024 * 1024) -> None:
        """Read and drop up to ``limit`` bytes of a refused body. Closing a socket with unread input makes
        the kernel send a reset, and the client would then see 'connection reset' instead of our 413."""
        remaining = min(length, limit)
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return

    def _transcribe(self, audio):
        try:
            future = self.server.dispatcher.submit(audio)
            return future.result(timeout=self.server.config.request_timeout_s)
        except QueueFull as err:
            raise RequestError(503, f"server overloaded: {err}") from None
        except DispatcherClosed as err:
            raise RequestError(503, str(err)) from None
        except FutureTimeout:
            raise RequestError(503, "transcription timed out; the server is overloaded, retry later") from None
        except Exception as err:  # a failed batch: this request's 500, not the server's end
            raise RequestError(500, f"transcription failed: {type(err).__name__}: {err}") from None

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "1")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class ServerHandle:
    """A running server (HTTP thread + dispatcher thread); ``close()`` stops both and frees the port."""

    def __init__(self, transcribe_batch: TranscribeBatch, config: ServeConfig) -> None:
        self.config = config
        self.dispatcher = BatchDispatcher(
            transcribe_batch, config.max_batch, config.max_wait_ms / 1000.0, config.max_queue
        )
        try:
            self.httpd = TranscriptionServer(config, self.dispatcher)
        except OSError:
            self.dispatcher.close()
            raise
        # poll_interval bounds how long close() waits for the accept loop to notice shutdown()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="http-serve", daemon=True)
        self._thread.start()
        log.info("serving on %s (%s)", self.url, json.dumps(asdict(config)))

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def close(self) -> None:
        """Stop accepting connections, let the dispatcher finish its batch, release the socket."""
        self.httpd.shutdown()
        self.dispatcher.close()
        self.httpd.server_close()
        self._thread.join(timeout=5.0)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_server(transcribe_batch: TranscribeBatch, config: ServeConfig | None = None) -> ServerHandle:
    """Start serving ``transcribe_batch`` in background threads; returns the handle to stop it."""
    return ServerHandle(transcribe_batch, config or ServeConfig())
