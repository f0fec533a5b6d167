"""Replying to one live dialogue (``knowledge-dialogue chat`` and ``serve``): both stages, nothing stored.

:class:`Replier` embeds the demonstration database once, then for each dialogue so far picks the stage-1
demonstrations, generates the knowledge and then the reply. :func:`make_server` puts it behind
``POST /reply`` with a JSON body ``{"topic": str, "turns": [str, ...]}`` (the last turn is the user's) and
answers ``{"knowledge", "response", "topic_known"}``; ``topic_known`` false means the topic has no database
items, so the demonstrations came from other topics. Bad requests get 400 with ``{"error": ...}`` naming the
field; other paths 404; generation errors 502. Requests are answered one at a time (one model).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from knowledge_dialogue.config import RunConfig
from knowledge_dialogue.data import Sample
from knowledge_dialogue.demos import Stage1Selector, select_stage2
from knowledge_dialogue.pipeline import Pipeline
from ninerepro.lm import LMBackend, LMError, runs

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20


class BadRequest(ValueError):
    pass


class Replier:
    def __init__(self, backend: LMBackend, model_id: str, cfg: RunConfig, train: list[Sample], *, seen: bool = True,
                 device: str = "cpu", encoder=None):
        self.selector = Stage1Selector(train, cfg.demos1, seen=seen, device=device, encoder=encoder)
        self.demos2 = select_stage2(train, cfg.demos2)
        self.pipe = Pipeline(backend, cfg, ".", model_id, runs.token_counter(backend))
        self.lock = threading.Lock()

    def reply(self, topic: str, turns: list[str]) -> dict:
        if not topic.strip():
            raise BadRequest("'topic' is empty; name what the dialogue is about")
        if not turns or not turns[-1].strip():
            raise BadRequest("'turns' is empty or ends with an empty turn; send the dialogue so far, user last")
        s = Sample(topic.strip(), tuple(turns), "", "")
        with self.lock:
            demos1 = self.selector.select([s])[s.key]
            knowledge, response = self.pipe.reply(s, demos1, self.demos2)
        return {"knowledge": knowledge, "response": response, "topic_known": self.selector.knows(s.topic)}


def parse_request(raw: bytes) -> tuple[str, list[str]]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON; send {\"topic\": ..., \"turns\": [...]}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object {\"topic\": ..., \"turns\": [...]}")
    if not isinstance(body.get("topic"), str):
        raise BadRequest("'topic' must be a string")
    turns = body.get("turns")
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise BadRequest("'turns' must be a list of strings")
    return body["topic"], turns


def make_server(replier: Replier, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, obj: dict) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path != "/reply":
                return self._send(404, {"error": f"no such endpoint {self.path!r}; POST /reply"})
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._send(400, {"error": "bad Content-Length"})
            if length > MAX_BODY:
                return self._send(413, {"error": f"body over {MAX_BODY} bytes"})
            try:
                topic, turns = parse_request(self.rfile.read(length))
                return self._send(200, replier.reply(topic, turns))
            except BadRequest as e:
                return self._send(400, {"error": str(e)})
            except LMError as e:
                return self._send(502, {"error": str(e)})

        def do_GET(self) -> None:
            self._send(405 if self.path == "/reply" else 404, {"error": "POST /reply with the dialogue so far"})

        def log_message(self, fmt: str, *args) -> None:
            log.info("%s " + fmt, self.address_string(), *args)

    return ThreadingHTTPServer((host, port), Handler)
