"""``POST /reply`` on loopback (good and bad requests) and ``chat``, with the fake backend."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request

import pytest

from knowledge_dialogue import cli
from knowledge_dialogue.config import RunConfig, Stage1DemoConfig
from knowledge_dialogue.data import read_samples
from knowledge_dialogue.runner import EMBEDDED
from knowledge_dialogue.server import Replier, make_server
from ninerepro.lm import runs

from .fakes import EchoBackend


@pytest.fixture(scope="module")
def url():
    cfg = RunConfig(demos1=Stage1DemoConfig(retriever="bm25"))
    server = make_server(Replier(EchoBackend(), "fake", cfg, read_samples(EMBEDDED / "train.json")), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _post(url: str, body: bytes, path: str = "/reply") -> tuple[int, dict]:
    req = urllib.request.Request(url + path, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_reply_returns_knowledge_and_response(url):
    code, out = _post(url, json.dumps({"topic": "Chess", "turns": ["Do you play chess?"]}).encode())
    assert code == 200 and out["topic_known"] is True
    assert out["knowledge"] == "Chess is a fine thing to talk about."
    assert out["response"] == "Chess is a fine thing to talk about ."  # stage 2 saw the tokenised knowledge
    code, out = _post(url, json.dumps({"topic": "Kayak", "turns": ["a", "b", "Ever paddled?"]}).encode())
    assert code == 200 and out["topic_known"] is False


@pytest.mark.parametrize("body, message", [
    (b"not json", "not JSON"),
    (b"[1]", "JSON object"),
    (json.dumps({"turns": ["hi"]}).encode(), "'topic' must be a string"),
    (json.dumps({"topic": "Chess", "turns": "hi"}).encode(), "'turns' must be a list"),
    (json.dumps({"topic": "Chess", "turns": []}).encode(), "'turns' is empty"),
    (json.dumps({"topic": " ", "turns": ["hi"]}).encode(), "'topic' is empty"),
])
def test_bad_requests_get_400_naming_the_field(url, body, message):
    code, out = _post(url, body)
    assert code == 400 and message in out["error"]


def test_other_paths_and_methods(url):
    assert _post(url, b"{}", "/nope")[0] == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url + "/reply", timeout=10)
    assert e.value.code == 405


def test_chat_shows_the_knowledge_beside_each_reply(monkeypatch):
    monkeypatch.setattr(runs, "make_backend", lambda args, batch_size: (EchoBackend(), "fake"))
    args = cli.build_parser().parse_args(["chat", "--topic", "Kayak", "demos1.retriever=bm25"])
    out = io.StringIO()
    assert cli.chat(args, io.StringIO("Have you paddled a kayak?\nIs it hard?\n\nignored\n"), out) == 0
    text = out.getvalue()
    assert "not in the database" in text
    assert text.count("[knowledge] Kayak is a fine thing to talk about.") == 2
