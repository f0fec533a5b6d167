"""Backends that need no model: answers from the prompt text, counts every prompt, or never answers."""

from __future__ import annotations

import socket
import threading

from ninerepro.lm import Generation


class EchoBackend:
    """Stage 1 (prompt ends ``=>``): ``" fact about <topic>\\n..."``. Stage 2 / baseline: a reply quoting the
    knowledge (or ``"no idea"`` without one). ``fail_after`` raises after that many prompts (a killed run)."""

    name = "fake"

    def __init__(self, fail_after: int | None = None):
        self.prompts: list[str] = []
        self.fail_after = fail_after

    def generate(self, prompts, sampling, seeds=None):
        out = []
        for p in prompts:
            if self.fail_after is not None and len(self.prompts) >= self.fail_after:
                raise KeyboardInterrupt("simulated kill")
            self.prompts.append(p)
            last = p.rsplit("\n", 1)[-1]
            if last.endswith("=>"):
                topic = last.rsplit(")", 1)[1][:-2].strip()
                text = f" {topic} is a fine thing to talk about.\n( next"
            elif " We know that: " in last:
                text = " " + last.split(" We know that: ", 1)[1].rsplit(" System replies:", 1)[0] + "\nTopic:"
            else:
                text = " no idea<|endoftext|>\nTopic:"
            out.append(Generation(text, [text], [-1.0], "stop"))
        return out


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers (a backend that times out)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()
