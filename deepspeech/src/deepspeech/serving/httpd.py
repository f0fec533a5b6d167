"""The HTTP face of the Batch Dispatch server: ``POST /transcribe`` (a WAV body) and ``GET /health``.

Standard-library ``ThreadingHTTPServer``: one thread per connection reads and checks the request, hands
the audio to the :class:`~deepspeech.serving.dispatcher.BatchDispatcher` and waits for its answer. Client
mistakes become 4xx JSON ``{"error": ...}`` replies, decided before the audio joins a batch; a failing
batch is retried request by request, so only the request that breaks the model gets 500. One client
cannot hold the server: a request must arrive whole within ``read_deadline_s`` (a watchdog cuts the read
side of slower connections and answers 408), and at most ``max_connections`` connections are served at
once (the next one gets 503 straight away). Wrong methods get 405 with an ``Allow`` header.
Replies are HTTP/1.1 with Content-Length, so a load-test
client can keep its connection open between requests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

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
    read_deadline_s: float = 30.0  # total time to receive one request (line, headers, body), however it trickles
    max_connections: int = 64  # connections served at once (one thread each); more get 503 immediately
    limits: AudioLimits = field(default_factory=AudioLimits)

    def __post_init__(self) -> None:
        if self.read_deadline_s <= 0 or self.max_connections < 1:
            raise ValueError(f"ServeConfig: read_deadline_s ({self.read_deadline_s}) must be > 0 and "
                             f"max_connections ({self.max_connections}) >= 1")


class _Watchdog:
    """One thread that enforces every connection's read deadline: once it passes, the connection's read
    side is shut down, so the blocked read returns at once (a per-read socket timeout never fires for a
    client sending one byte every few seconds)."""

    def __init__(self, tick_s: float = 0.05) -> None:
        self._deadlines: dict[_Handler, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tick_s = tick_s
        self._thread = threading.Thread(target=self._run, name="read-deadlines", daemon=True)
        self._thread.start()

    def arm(self, handler: _Handler, seconds: float) -> None:
        with self._lock:
            self._deadlines[handler] = time.monotonic() + seconds

    def disarm(self, handler: _Handler) -> None:
        with self._lock:
            self._deadlines.pop(handler, None)

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            now = time.monotonic()
            with self._lock:
                expired = [h for h, d in self._deadlines.items() if d <= now]
                for h in expired:
                    del self._deadlines[h]
            for h in expired:
                h.expire()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


class TranscriptionServer(ThreadingHTTPServer):
    """Holds what request handlers need: the dispatcher and the serving limits."""

    daemon_threads = True  # idle keep-alive connections must not block shutdown
    request_queue_size = 128  # listen backlog: 20 streams connecting at once must not be refused
    REFUSE_DRAIN_S = 0.2  # longest the accept thread spends reading a request it refuses with 503

    def __init__(self, config: ServeConfig, dispatcher: BatchDispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.watchdog = _Watchdog()
        self._slots = threading.BoundedSemaphore(config.max_connections)
        self.refused = 0
        try:
            super().__init__((config.host, config.port), _Handler)
        except OSError:
            self.watchdog.close()
            raise

    def process_request(self, request, client_address) -> None:
        """Serve the connection in a thread if a slot is free; otherwise answer 503 from here and close."""
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """503 from the accept thread. The request is drained first (for at most ``REFUSE_DRAIN_S``): closing
        a socket with unread input sends a reset, and the client would see that instead of the 503."""
        body = json.dumps({"error": f"server busy: {self.config.max_connections} connections already open; "
                                    "retry later"}).encode()
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
                f"{len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").encode()
        with contextlib.suppress(OSError):
            _drain_request(request, time.monotonic() + self.REFUSE_DRAIN_S, self.config.limits.max_bytes)
            request.settimeout(0.5)
            request.sendall(head + body)
        self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.watchdog.close()


def _drain_request(sock: socket.socket, deadline: float, max_bytes: int) -> None:
    """Read one request's headers and Content-Length body off ``sock`` and drop them, until ``deadline``."""
    data, need = b"", None
    while time.monotonic() < deadline and len(data) <= max_bytes + 65536:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            return
        data += chunk
        if need is None and b"\r\n\r\n" in data:
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
            lengths = [line.split(":", 1)[1] for line in head.split("\r\n") if line.startswith("content-length:")]
            need = len(head) + 4 + (int(lengths[0]) if lengths and lengths[0].strip().isdigit() else 0)
        if need is not None and len(data) >= need:
            return


class _Handler(BaseHTTPRequestHandler):
    server: TranscriptionServer
    protocol_version = "HTTP/1.1"
    # the reply goes out as two writes (headers, then body); with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers, adding ~40 ms to every keep-alive request
    disable_nagle_algorithm = True

    ROUTES: ClassVar[dict[str, str]] = {"/transcribe": "POST", "/health": "GET"}

    def setup(self) -> None:
        self.timeout = self.server.config.read_timeout_s  # socket timeout for every read on this connection
        self._expired = False
        super().setup()

    def handle_one_request(self) -> None:
        """Arm the read deadline for the request about to be read (idle keep-alive time counts too)."""
        self.server.watchdog.arm(self, self.server.config.read_deadline_s)
        try:
            super().handle_one_request()
        finally:
            self.server.watchdog.disarm(self)

    def expire(self) -> None:
        """Called by the watchdog: stop reading from this client; a reply can still be written."""
        self._expired = True
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RD)

    def _route(self, method: str) -> bool:
        """True if ``method`` is the one this path takes; else reply 404 (unknown path) or 405 and return False."""
        path = self.path.split("?", 1)[0]
        allowed = self.ROUTES.get(path)
        if allowed is None:
            self.close_connection = method != "GET"
            self._reply(404, {"error": f"no such path {self.path!r}; use POST /transcribe or GET /health"})
            return False
        if allowed != method:
            self.close_connection = True  # any body of the wrong request is not read
            self._reply(405, {"error": f"{method} is not allowed on {path}; use {allowed} {path}"},
                        {"Allow": allowed})
            return False
        return True

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_GET(self) -> None:
        self.server.watchdog.disarm(self)
        if not self._route("GET"):
            return
        cfg = self.server.config
        self._reply(200, {"status": "ok", "max_batch": cfg.max_batch, "max_wait_ms": cfg.max_wait_ms,
                          "sample_rate": cfg.limits.sample_rate, "max_seconds": cfg.limits.max_seconds})

    def do_POST(self) -> None:
        start = time.perf_counter()
        if not self._route("POST"):
            return
        try:
            body = self._read_body()
            self.server.watchdog.disarm(self)
            audio = decode_wav(body, self.server.config.limits)
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
        except (TimeoutError, OSError):
            body = None
        if body is None or (self._expired and len(body) != length):
            self.close_connection = True
            raise RequestError(408, f"the request did not arrive within {self.server.config.read_deadline_s:g} s "
                                    f"(or stalled for {self.server.config.read_timeout_s:g} s); send it faster")
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

    def _reply(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "1")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client went away; nothing to answer
            self.close_connection = True

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
