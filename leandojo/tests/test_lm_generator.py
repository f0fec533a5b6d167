"""Tactics from a language-model endpoint (issue #19 item 6: the paper's GPT-4 row through ninerepro.lm)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from ninerepro.lm.types import Generation
from reprover.cli import main
from reprover.data.positions import Pos
from reprover.search.lm_generator import LMGeneratorOptions, LMTacticGenerator, parse_spec


class ScriptedBackend:
    name = "scripted"

    def __init__(self, replies: list[Generation]) -> None:
        self.replies, self.calls = replies, []

    def generate(self, prompts, sampling, seeds=None):
        self.calls.append((list(prompts), sampling, list(seeds)))
        return self.replies[: len(prompts)]


def test_the_first_line_is_the_tactic_scored_by_the_tokens_that_cover_it_and_duplicates_keep_the_best():
    replies = [Generation(" simp\nrfl", [" si", "mp", "\n", "rfl"], [-0.5, -0.25, -3.0, -3.0]),
               Generation("simp", ["simp"], [-0.1]),
               Generation("`ring`", ["`ring`"], [-2.0])]
    backend = ScriptedBackend(replies)
    gen = LMTacticGenerator(backend, LMGeneratorOptions(temperature=0.7))
    out = gen.generate("x : ℕ\n⊢ x = x", "A.lean", "A.t", Pos(1, 1), 3)
    assert out == [("simp", -0.1), ("ring", -2.0)]
    prompts, sampling, seeds = backend.calls[0]
    assert len(prompts) == 3 and "⊢ x = x" in prompts[0] and sampling.temperature == 0.7 and sampling.stop == ("\n",)
    assert len(set(seeds)) == 3  # one seed per sample ...
    gen.generate("x : ℕ\n⊢ x = x", "A.lean", "A.t", Pos(1, 1), 3)
    assert backend.calls[1][2] == seeds  # ... derived from the state, so a rerun proposes the same tactics


def test_temperature_zero_asks_for_one_greedy_completion():
    backend = ScriptedBackend([Generation("rfl", ["rfl"], [-0.2])])
    gen = LMTacticGenerator(backend, LMGeneratorOptions(temperature=0.0))
    assert gen.generate("⊢ True", "A.lean", "A.t", Pos(1, 1), 8) == [("rfl", -0.2)]
    assert len(backend.calls[0][0]) == 1 and backend.calls[0][1].greedy


@pytest.mark.parametrize("bad", ["lm:gpt4", "lm:openai:", "lm:nope:m"])
def test_a_malformed_lm_generator_is_refused_with_the_form(bad):
    with pytest.raises(ValueError, match="lm:BACKEND:MODEL"):
        parse_spec(bad)


class _OracleServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/completions that answers the recorded tactic of the state in the prompt."""

    tactics: ClassVar[dict[str, str]] = {}
    seen_keys: ClassVar[list[str]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen_keys.append(self.headers.get("Authorization", ""))
        prompt = body["prompt"]
        tactic = next((t for s, t in self.tactics.items() if f"state:\n{s}\n" in prompt), "sorry")
        reply = {"choices": [{"text": " " + tactic, "finish_reason": "stop",
                              "logprobs": {"tokens": [" " + tactic], "token_logprobs": [-0.5]}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_prove_with_an_openai_compatible_server_keeps_the_key_out_of_every_file(fixture_root, bench, tmp_path,
                                                                              monkeypatch):
    theorems = bench.split("random", "test")
    _OracleServer.tactics = {t.state_before: t.tactic for thm in theorems for t in thm.traced_tactics}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OracleServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TEST_LM_KEY", "sk-secret-123")
    out = tmp_path / "lm.json"
    try:
        rc = main(["prove", "--data", str(fixture_root), "--split", "random", "--subset", "test",
                   "--generator", "lm:openai:fake-model", "--lm-base-url", f"http://127.0.0.1:{server.server_port}",
                   "--lm-api-key-env", "TEST_LM_KEY", "--num-sampled-tactics", "2", "--no-progress",
                   "--output", str(out)])
    finally:
        server.shutdown()
    summary = json.loads(out.read_text())
    with_tactics = [t for t in theorems if t.traced_tactics]
    assert rc == 0 and summary["proved"] == summary["total"] == len(with_tactics) > 0
    assert _OracleServer.seen_keys and set(_OracleServer.seen_keys) == {"Bearer sk-secret-123"}
    for f in tmp_path.iterdir():
        assert "sk-secret-123" not in f.read_text(), f.name


def test_an_empty_api_key_variable_is_one_line_with_exit_2(fixture_root, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    rc = main(["prove", "--data", str(fixture_root), "--generator", "lm:openai:m", "--lm-api-key-env",
               "NO_SUCH_KEY_VAR", "--output", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "export NO_SUCH_KEY_VAR=" in err and len(err.strip().splitlines()) == 1
