"""The vocabulary every backend speaks: how to decode (:class:`Sampling`) and what came back (:class:`Generation`).

One set of types for Hugging Face, vLLM and OpenAI-compatible servers means a pipeline (CGAP, MSDP) is written
once and the backend is a command-line choice. Seeds are per request, not per batch, so sample ``i`` of a
question is the same draw whichever batch it lands in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class LMError(RuntimeError):
    """A backend could not produce a generation (model missing, server down or answering garbage)."""


@dataclass(frozen=True)
class Sampling:
    """Decoding settings for one batch of prompts; ``greedy`` ignores the nucleus/temperature fields."""

    max_new_tokens: int
    greedy: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    """Nucleus mass kept; 1.0 keeps every token."""
    top_k: int = 0
    """Keep the k most likely tokens before the nucleus cut; 0 disables (as Megatron's ``top_k=0``)."""
    stop: tuple[str, ...] = ()
    """Strings that end a generation; the returned text is cut before the first one."""
    stop_when: Callable[[str], bool] | None = field(default=None, compare=False)
    """Early exit on the text so far, for backends that can check it between tokens (HF). It must never change
    what the caller keeps from the text (e.g. "the first long line is complete"): a backend that cannot run it
    simply generates ``max_new_tokens``."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not self.greedy and self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 for sampling, got {self.temperature} (use greedy=True)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")


@dataclass
class Generation:
    """One completion: its text and, token by token, the text pieces and their log-probabilities.

    ``logprobs[j]`` is log p(token j | prompt, tokens < j) under the model's own distribution at temperature 1
    (before top-k/top-p truncation), so sequence scores are comparable across decoding settings.
    """

    text: str
    tokens: list[str] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "length"
    """``"stop"`` (a stop string, stop_when or end of sequence) or ``"length"`` (max_new_tokens reached)."""

    @property
    def sum_logprob(self) -> float:
        return float(sum(self.logprobs))

    @property
    def mean_logprob(self) -> float:
        return self.sum_logprob / len(self.logprobs) if self.logprobs else 0.0

    def prefix_logprob(self, n_chars: int) -> tuple[float, int]:
        """Sum of the log-probs of the tokens needed to cover the first ``n_chars`` of ``text``, and their count.

        Lets a caller score only the part of a completion it keeps (the first line, the answer) whatever the
        backend generated after it."""
        total, covered = 0.0, 0
        for j, (piece, lp) in enumerate(zip(self.tokens, self.logprobs)):
            if covered >= n_chars:
                return total, j
            total += lp
            covered += len(piece)
        return total, len(self.logprobs)

    def to_json(self) -> dict:
        return {"text": self.text, "tokens": self.tokens, "logprobs": self.logprobs,
                "finish_reason": self.finish_reason}

    @classmethod
    def from_json(cls, data: dict) -> Generation:
        return cls(data["text"], list(data.get("tokens", [])), [float(x) for x in data.get("logprobs", [])],
                   data.get("finish_reason", "length"))


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)
