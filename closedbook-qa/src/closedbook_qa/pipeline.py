"""The three generation stages, each resumable: stage 1 (k contexts), stage 2 (an answer per context), direct.

Records are keyed ``{question id}#{sample index}`` (stage 1 and 2) or ``{question id}`` (direct) in one
:class:`ninerepro.lm.JsonlStore` per stage, appended as each backend call returns. A rerun asks each store what is
missing and generates only that; raising k later reuses the first samples, since sample i's seed
(``seed + 10·i``) does not depend on k. Each store's fingerprint holds every setting that shapes its text
(model, decoding, demonstrations; stage 2 also stage 1's), so a changed setting is refused, not mixed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from closedbook_qa import cleaning, prompts
from closedbook_qa.config import RunConfig
from closedbook_qa.data import QAItem
from ninerepro.lm import Generation, JsonlStore, LMBackend, Sampling
from ninerepro.lm.runs import run_jobs

log = logging.getLogger(__name__)
TokenCounter = Callable[[str], int]


def sample_key(qid: str, i: int) -> str:
    return f"{qid}#{i}"


def stage1_sampling(cfg: RunConfig) -> Sampling:
    s = cfg.stage1
    stop = (lambda t: cleaning.context_line_complete(t, s.min_line_chars)) if s.early_stop else None
    return Sampling(max_new_tokens=s.max_new_tokens, top_p=s.top_p, top_k=s.top_k, temperature=s.temperature,
                    stop_when=stop)


def answer_sampling(cfg: RunConfig) -> Sampling:
    stop = cleaning.answer_line_complete if cfg.stage2.early_stop else None
    return Sampling(max_new_tokens=cfg.stage2.max_new_tokens, greedy=True, stop_when=stop)


def _kept_logprob(gen: Generation, kept: str) -> tuple[float, int]:
    """Log-prob and token count of the generation up to the end of the part the method keeps."""
    at = gen.text.find(kept)
    return gen.prefix_logprob(at + len(kept)) if at >= 0 and kept else (gen.sum_logprob, len(gen.logprobs))


class Pipeline:
    def __init__(self, backend: LMBackend, cfg: RunConfig, out_dir: str | Path, model_id: str,
                 count_tokens: TokenCounter | None = None, *, fresh: bool = False):
        self.backend, self.cfg, self.out = backend, cfg, Path(out_dir)
        self.count_tokens = count_tokens or (lambda text: len(text.split()))
        self.fresh = fresh
        base = {"backend": backend.name, "model": model_id, "demos": asdict(cfg.demos)}
        self.fp1 = {**base, "stage1": asdict(cfg.stage1), "official_cleaning": cfg.official_cleaning}
        self.fp2 = {**self.fp1, "stage2": asdict(cfg.stage2)}
        self.fpd = {**base, "stage2": asdict(cfg.stage2)}

    def _fit(self, build, demos: Sequence[QAItem], reserve: int) -> list[QAItem]:
        return prompts.fit_demos(build, demos, self.count_tokens, self.cfg.demos.max_prompt_tokens, reserve)

    def _run(self, store: JsonlStore, jobs: list[tuple[str, str, int]], sampling: Sampling,
             to_record: Callable[[str, Generation], dict]) -> None:
        """Generate the (key, prompt, seed) jobs not yet in ``store``, ``batch_size`` at a time."""
        run_jobs(self.backend, store, jobs, sampling, to_record, self.cfg.batch_size)

    def contexts(self, tests: Sequence[QAItem], demos: dict[str, list[QAItem]]) -> JsonlStore:
        s, k = self.cfg.stage1, self.cfg.k
        store = JsonlStore(self.out / "stage1_contexts.jsonl", self.fp1, fresh=self.fresh)
        jobs = []
        for t in tests:
            kept = self._fit(lambda d, q=t.question: prompts.stage1_prompt(q, d), demos[t.id], s.max_new_tokens)
            prompt = prompts.stage1_prompt(t.question, kept)
            jobs += [(sample_key(t.id, i), prompt, s.seed + s.seed_stride * i) for i in range(k)]

        def record(key: str, gen: Generation) -> dict:
            ctx = cleaning.extract_context(gen.text, s.min_line_chars, official=self.cfg.official_cleaning)
            lp, n = _kept_logprob(gen, ctx)
            return {"raw": gen.text, "context": ctx, "context_logprob": lp, "context_tokens": n,
                    "finish_reason": gen.finish_reason}

        self._run(store, jobs, stage1_sampling(self.cfg), record)
        return store

    def answers(self, tests: Sequence[QAItem], demos: dict[str, list[QAItem]], contexts: JsonlStore) -> JsonlStore:
        store = JsonlStore(self.out / "stage2_answers.jsonl", self.fp2, fresh=self.fresh)
        jobs, reserve = [], self.cfg.stage2.max_new_tokens
        for t in tests:
            for i in range(self.cfg.k):
                key = sample_key(t.id, i)
                ctx = contexts.get(key)["context"]
                kept = self._fit(lambda d, q=t.question, c=ctx: prompts.stage2_prompt(q, c, d), demos[t.id], reserve)
                jobs.append((key, prompts.stage2_prompt(t.question, ctx, kept), 0))
        self._run(store, jobs, answer_sampling(self.cfg), _answer_record)
        return store

    def direct(self, tests: Sequence[QAItem], demos: dict[str, list[QAItem]]) -> JsonlStore:
        store = JsonlStore(self.out / "direct_answers.jsonl", self.fpd, fresh=self.fresh)
        reserve = self.cfg.stage2.max_new_tokens
        jobs = []
        for t in tests:
            kept = self._fit(lambda d, q=t.question: prompts.direct_prompt(q, d), demos[t.id], reserve)
            jobs.append((t.id, prompts.direct_prompt(t.question, kept), 0))
        self._run(store, jobs, answer_sampling(self.cfg), _answer_record)
        return store


def _answer_record(key: str, gen: Generation) -> dict:
    """Raw answer generation plus the log-prob of its first line (what the cleaning keeps)."""
    text = gen.text.replace(cleaning.EOT, "")
    lead = len(text) - len(text.lstrip())
    lp, n = gen.prefix_logprob(lead + len(cleaning.first_line(text)))
    return {"raw": gen.text, "answer": cleaning.clean_answer(gen.text), "answer_logprob": lp, "answer_tokens": n,
            "finish_reason": gen.finish_reason}
