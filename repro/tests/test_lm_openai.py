"""The OpenAI-compatible backend against a fake server on loopback: parsing, retries with backoff, no hangs."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ninerepro.lm import LMError, Sampling
from ninerepro.lm.openai_http import OpenAIBackend

GOOD = {"choices": [{"text": " Paris\nQ:", "finish_reason": "length",
                     "logprobs": {"tokens": [" Paris", "\n", "Q:"], "token_logprobs": [-0.5, -0.1, -1.0]}}]}


class FakeServer:
    """Answers each POST with the next scripted reply: a dict (JSON), bytes (raw), an int (HTTP status) or
    "sleep" (never answers in time)."""

    def __init__(self, script):
        self.script, self.bodies = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                reply = owner.script.pop(0) if len(owner.script) > 1 else owner.script[0]
                if reply == "sleep":
                    time.sleep(1.0)
                    return
                if isinstance(reply, int):
                    self.send_response(reply)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server(request):
    srv = FakeServer(request.param)
    yield srv
    srv.close()


def _backend(url, **kw):
    return OpenAIBackend("m", url, timeout_s=kw.pop("timeout_s", 2.0), retries=kw.pop("retries", 2), backoff_s=0.01,
                         **kw)


@pytest.mark.parametrize("server", [[GOOD]], indirect=True)
def test_a_completion_is_parsed_with_tokens_logprobs_and_stop(server):
    gens = _backend(server.url).generate(["q1", "q2"], Sampling(max_new_tokens=5, top_p=0.9, stop=("\n",)), [1, 11])
    assert [g.text for g in gens] == [" Paris", " Paris"] and gens[0].finish_reason == "stop"
    assert gens[0].logprobs == [-0.5, -0.1, -1.0]
    assert sorted(b["seed"] for b in server.bodies) == [1, 11]
    assert all(b["top_p"] == 0.9 and "top_k" not in b for b in server.bodies)


@pytest.mark.parametrize("server", [[b"<html>garbage", {"no": "choices"}, 503, GOOD]], indirect=True)
def test_garbage_and_5xx_replies_are_retried_until_a_good_one(server):
    assert _backend(server.url, retries=3).generate(["q"], Sampling(max_new_tokens=2, greedy=True))[0].text == \
        " Paris\nQ:"
    assert len(server.bodies) == 4 and server.bodies[0]["temperature"] == 0.0


@pytest.mark.parametrize("server", [[b"not json"]], indirect=True)
def test_a_server_that_only_answers_garbage_ends_in_one_clear_error(server):
    with pytest.raises(LMError, match="no usable completion after 3 attempts"):
        _backend(server.url).generate(["q"], Sampling(max_new_tokens=2, greedy=True))


@pytest.mark.parametrize("server", [[400]], indirect=True)
def test_a_client_error_is_not_retried(server):
    with pytest.raises(LMError, match="HTTP 400"):
        _backend(server.url).generate(["q"], Sampling(max_new_tokens=2, greedy=True))
    assert len(server.bodies) == 1


@pytest.mark.parametrize("server", [["sleep"]], indirect=True)
def test_a_server_that_never_answers_times_out_instead_of_hanging(server):
    start = time.perf_counter()
    with pytest.raises(LMError, match=r"TimeoutError|timed out"):
        _backend(server.url, timeout_s=0.2, retries=1).generate(["q"], Sampling(max_new_tokens=2, greedy=True))
    assert time.perf_counter() - start < 5


def test_a_server_that_is_down_fails_fast_with_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(LMError, match=f"127.0.0.1:{port}"):
        _backend(url, retries=1).generate(["q"], Sampling(max_new_tokens=2, greedy=True))
