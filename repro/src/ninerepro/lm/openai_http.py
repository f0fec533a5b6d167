"""Any OpenAI-compatible completions server (vLLM ``vllm serve``, SGLang, TGI): one HTTP request per prompt.

Why one request per prompt: seeds are per prompt (sample i of a question has its own seed), and the
``/v1/completions`` body carries one ``seed``. Requests run concurrently (``max_workers``) so the server
batches them itself (continuous batching). Large models are served tensor-parallel by the server
(``vllm serve MODEL --tensor-parallel-size 8``, ``python -m sglang.launch_server --tp 8``); nothing here
changes for that.

Failure policy, so a run never hangs: every request has a timeout; connection errors, timeouts, HTTP 5xx/429
and replies that are not a well-formed completion are retried with exponential backoff (``retries`` times),
then raised as :class:`~ninerepro.lm.types.LMError` naming the URL and the last problem. HTTP 4xx other than 429
is the caller's mistake (bad model name, bad parameter) and is raised at once.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ninerepro.lm.backend import check_seeds
from ninerepro.lm.types import Generation, LMError, Sampling, cut_at_stop

log = logging.getLogger(__name__)


class _Retryable(Exception):
    pass


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000", *, timeout_s: float = 60.0,
                 retries: int = 3, backoff_s: float = 1.0, max_workers: int = 8, api_key: str | None = None):
        if retries < 0 or timeout_s <= 0:
            raise ValueError(f"need retries >= 0 and timeout_s > 0, got {retries} and {timeout_s}")
        self.model, self.url = model, base_url.rstrip("/") + "/v1/completions"
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s
        self.max_workers, self.api_key = max_workers, api_key

    def body(self, prompt: str, sampling: Sampling, seed: int) -> dict:
        """The request body: greedy is temperature 0; top_k (a vLLM/SGLang extension) only when set."""
        body = {"model": self.model, "prompt": prompt, "max_tokens": sampling.max_new_tokens, "logprobs": 1,
                "temperature": 0.0 if sampling.greedy else sampling.temperature,
                "top_p": 1.0 if sampling.greedy else sampling.top_p, "seed": int(seed)}
        if sampling.top_k > 0 and not sampling.greedy:
            body["top_k"] = sampling.top_k
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        return body

    def generate(self, prompts: Sequence[str], sampling: Sampling,
                 seeds: Sequence[int] | None = None) -> list[Generation]:
        seeds = check_seeds(prompts, seeds)
        with ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(prompts)))) as pool:
            return list(pool.map(lambda ps: self._complete(self.body(ps[0], sampling, ps[1]), sampling),
                                 zip(prompts, seeds)))

    def _complete(self, body: dict, sampling: Sampling) -> Generation:
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                return _parse(self._post(body), sampling)
            except _Retryable as e:
                problem = str(e)
                log.warning("%s: attempt %d/%d failed: %s", self.url, attempt + 1, self.retries + 1, problem)
        raise LMError(f"{self.url}: no usable completion after {self.retries + 1} attempts ({problem}); "
                      f"is the server up and serving model {self.model!r}?")

    def _post(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode(errors="replace")
            if e.code == 429 or e.code >= 500:
                raise _Retryable(f"HTTP {e.code}: {detail}") from None
            raise LMError(f"{self.url}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            raise _Retryable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(f"reply is not JSON: {raw[:80]!r}") from None


def _parse(reply: dict, sampling: Sampling) -> Generation:
    """A Generation from a completions reply, or _Retryable when the reply lacks the fields we need."""
    try:
        choice = reply["choices"][0]
        text = choice["text"]
        lp = choice.get("logprobs") or {}
        tokens = [str(t) for t in lp.get("tokens") or []]
        logprobs = [float(x) if x is not None else 0.0 for x in lp.get("token_logprobs") or []]
        finish = "stop" if choice.get("finish_reason") == "stop" else "length"
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise _Retryable(f"reply is not a completion ({type(e).__name__}: {e})") from None
    if not isinstance(text, str):
        raise _Retryable("reply's choices[0].text is not a string")
    text, stopped = cut_at_stop(text, sampling.stop)  # servers differ on whether they cut
    return Generation(text, tokens, logprobs, "stop" if stopped else finish)
