"""Tactics from any ``ninerepro.lm`` backend: an OpenAI-compatible server (the paper's GPT-4 row), vLLM or HF.

``--generator lm:BACKEND:MODEL`` (``lm:openai:gpt-4``, ``lm:vllm:/models/deepseek-prover``, ``lm:hf:FOLDER``).
The model reads a prompt made of the retrieved premises (when ``--retriever`` is given), the proof state and
an instruction, and completes one tactic per sample; ``num_samples`` samples are drawn with seeds derived from
the state (so a rerun proposes the same tactics), the first line of each is the tactic, and its score is the
summed log-probability of the tokens that cover that line (``Generation.prefix_logprob``), so best-first
search can add scores as it does for ReProver. Duplicates keep their best copy.

Decoding is sampling (``temperature``, default 1.0) or, with ``temperature 0``, one greedy completion: the
``ninerepro.lm`` backends have no beam search. A decoder-only model served by vLLM is the fast path on a GPU;
ReProver's ByT5 is encoder-decoder, which vLLM does not serve, and stays on :mod:`reprover.generation`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reprover.data.positions import Pos
from reprover.data.records import remove_marks
from reprover.search.generator_api import dedupe

PROMPT = ("You are proving a theorem in Lean 4. {premises}Current proof state:\n{state}\n\n"
          "Reply with the single next tactic, on one line, without explanation.\nTactic:")


@dataclass(frozen=True)
class LMGeneratorOptions:
    base_url: str = "http://127.0.0.1:8000"  # openai backend: the server (``vllm serve``, SGLang, any OpenAI API)
    api_key_env: str | None = None  # openai backend: environment variable holding the key (never the key: options
    # are part of the run's recorded settings); None = no key (a local server)
    temperature: float = 1.0  # 0 = one greedy completion per state
    max_tokens: int = 128  # per tactic (RP's max_oup_seq_len is 512 bytes; tactics are rarely longer than 128)
    num_premises: int = 20  # retrieved premises put in the prompt (with --retriever)


def parse_spec(generator: str) -> tuple[str, str]:
    """``lm:BACKEND:MODEL`` -> (backend, model)."""
    from ninerepro.lm.backend import BACKENDS

    kind, _, model = generator[len("lm:"):].partition(":")
    if kind not in BACKENDS or not model:
        raise ValueError(f"--generator {generator}: the form is lm:BACKEND:MODEL with BACKEND one of "
                         f"{', '.join(BACKENDS)}, e.g. --generator lm:openai:gpt-4 --lm-base-url https://api.openai.com")
    return kind, model


class LMTacticGenerator:
    """Implements :class:`reprover.search.generator_api.TacticGenerator` over a ``ninerepro.lm`` backend."""

    def __init__(self, backend, options: LMGeneratorOptions = LMGeneratorOptions(), retriever=None) -> None:
        from ninerepro.lm.types import Sampling

        if options.temperature < 0 or options.max_tokens < 1:
            raise ValueError(f"--lm-temperature must be >= 0 and --lm-max-tokens >= 1, got {options.temperature} "
                             f"and {options.max_tokens}")
        self.backend, self.options, self.retriever = backend, options, retriever
        greedy = options.temperature == 0
        self.sampling = Sampling(max_new_tokens=options.max_tokens, greedy=greedy,
                                 temperature=1.0 if greedy else options.temperature, stop=("\n",))

    def prompt(self, state: str, file_path: str, theorem_pos: Pos) -> str:
        premises = ""
        if self.retriever is not None:
            from reprover.retrieval.premise_text import premise_text
            from reprover.retrieval.retriever import Query

            ranked = self.retriever.retrieve([Query(state, file_path, theorem_pos)], self.options.num_premises)[0]
            if ranked:
                premises = "Lemmas that may help:\n" + "\n".join(remove_marks(premise_text(p)) for p, _ in ranked)
                premises += "\n\n"
        return PROMPT.format(premises=premises, state=remove_marks(state))

    def generate(self, state: str, file_path: str, theorem_full_name: str, theorem_pos: Pos,
                 num_samples: int) -> list[tuple[str, float]]:
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {num_samples}")
        n = 1 if self.sampling.greedy else num_samples
        base = int(hashlib.md5(f"{theorem_full_name}\n{state}".encode()).hexdigest()[:8], 16)
        prompt = self.prompt(state, file_path, theorem_pos)
        gens = self.backend.generate([prompt] * n, self.sampling, seeds=[base + i for i in range(n)])
        return dedupe([_tactic_and_score(g) for g in gens])


def _tactic_and_score(gen) -> tuple[str, float]:
    """The first non-empty line of a completion and the log-probability of the tokens that cover it."""
    text = gen.text
    lead = len(text) - len(text.lstrip())
    line = text.lstrip().split("\n", 1)[0].strip().strip("`").strip()
    score, _ = gen.prefix_logprob(lead + len(line)) if gen.tokens else (gen.sum_logprob, 0)
    return line, min(float(score), 0.0)


def build_lm_generator(generator: str, options: LMGeneratorOptions, retriever=None) -> LMTacticGenerator:
    from ninerepro.lm.backend import build_backend

    kind, model = parse_spec(generator)
    kwargs: dict = {}
    if kind == "openai":
        import os

        key = os.environ.get(options.api_key_env) if options.api_key_env else None
        kwargs = {"base_url": options.base_url, "api_key": key}
    return LMTacticGenerator(build_backend(kind, model, **kwargs), options, retriever)

