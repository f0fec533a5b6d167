"""The two MSDP stages and the single-stage baseline, each a resumable :class:`ninerepro.lm.JsonlStore`.

Records are keyed by the test item's row index. A rerun generates only what a store lacks; each store's
fingerprint holds every setting that shapes its text (model, decoding, demonstrations, tokeniser mode, a hash
of the test rows; stage 2 also stage 1's), so a changed setting is refused rather than mixed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from knowledge_dialogue import prompts, tokens
from knowledge_dialogue.config import DecodeConfig, RunConfig
from knowledge_dialogue.data import Sample
from ninerepro.lm import Generation, JsonlStore, LMBackend, Sampling
from ninerepro.lm.runs import TokenCounter, fit_demos, run_jobs

STAGE_FILES = ("stage1_knowledge.jsonl", "stage2_responses.jsonl", "baseline_responses.jsonl")


def sampling(d: DecodeConfig) -> Sampling:
    return Sampling(max_new_tokens=d.max_new_tokens, greedy=True, stop=("\n",) if d.stop_at_newline else ())


def rows_hash(tests: Sequence[Sample]) -> str:
    return hashlib.sha256("\n".join(t.tsv_line() for t in tests).encode()).hexdigest()[:16]


def _record(field: str) -> Callable[[str, Generation], dict]:
    def record(key: str, gen: Generation) -> dict:
        return {"raw": gen.text, field: prompts.first_line(gen.text), "finish_reason": gen.finish_reason}

    return record


class Pipeline:
    def __init__(self, backend: LMBackend, cfg: RunConfig, out_dir: str | Path, model_id: str,
                 count_tokens: TokenCounter | None = None, *, fresh: bool = False, tests_id: str = ""):
        self.backend, self.cfg, self.out, self.fresh = backend, cfg, Path(out_dir), fresh
        self.count_tokens = count_tokens or (lambda text: len(text.split()))
        base = {"backend": backend.name, "model": model_id, "tokenizer": tokens.mode(), "tests": tests_id,
                "max_prompt_tokens": cfg.max_prompt_tokens}
        self.fp1 = {**base, "demos1": asdict(cfg.demos1), "stage1": asdict(cfg.stage1)}
        self.fp2 = {**self.fp1, "demos2": asdict(cfg.demos2), "stage2": asdict(cfg.stage2)}
        self.fpb = {**base, "demos2": asdict(cfg.demos2), "stage2": asdict(cfg.stage2)}

    def _fit(self, build, demos: Sequence, reserve: int) -> list:
        return fit_demos(build, demos, self.count_tokens, self.cfg.max_prompt_tokens, reserve)

    def knowledge_prompt(self, t: Sample, demos: Sequence[str]) -> str:
        kept = self._fit(lambda d: prompts.stage1_prompt(t, d), demos, self.cfg.stage1.max_new_tokens)
        return prompts.stage1_prompt(t, kept)

    def response_prompt(self, t: Sample, knowledge: str, demos: Sequence[Sample]) -> str:
        kept = self._fit(lambda d: prompts.stage2_prompt(t, knowledge, d), demos, self.cfg.stage2.max_new_tokens)
        return prompts.stage2_prompt(t, knowledge, kept)

    def baseline_prompt(self, t: Sample, demos: Sequence[Sample]) -> str:
        kept = self._fit(lambda d: prompts.baseline_prompt(t, d), demos, self.cfg.stage2.max_new_tokens)
        return prompts.baseline_prompt(t, kept)

    def _store(self, name: str, fp: dict) -> JsonlStore:
        return JsonlStore(self.out / name, fp, fresh=self.fresh)

    def knowledge(self, tests: Sequence[Sample], demos1: dict[str, list[str]]) -> JsonlStore:
        store = self._store(STAGE_FILES[0], self.fp1)
        jobs = [(str(i), self.knowledge_prompt(t, demos1[t.key]), 0) for i, t in enumerate(tests)]
        run_jobs(self.backend, store, jobs, sampling(self.cfg.stage1), _record("knowledge"), self.cfg.batch_size)
        return store

    def responses(self, tests: Sequence[Sample], knowledge: JsonlStore, demos2: Sequence[Sample]) -> JsonlStore:
        store = self._store(STAGE_FILES[1], self.fp2)
        jobs = [(str(i), self.response_prompt(t, knowledge.get(str(i))["knowledge"], demos2), 0)
                for i, t in enumerate(tests)]
        run_jobs(self.backend, store, jobs, sampling(self.cfg.stage2), _record("response"), self.cfg.batch_size)
        return store

    def baseline(self, tests: Sequence[Sample], demos2: Sequence[Sample]) -> JsonlStore:
        store = self._store(STAGE_FILES[2], self.fpb)
        jobs = [(str(i), self.baseline_prompt(t, demos2), 0) for i, t in enumerate(tests)]
        run_jobs(self.backend, store, jobs, sampling(self.cfg.stage2), _record("response"), self.cfg.batch_size)
        return store

    def reply(self, t: Sample, demos1: Sequence[str], demos2: Sequence[Sample]) -> tuple[str, str]:
        """(knowledge, response) for one dialogue, nothing stored: what ``chat`` and the server call."""
        gen1 = self.backend.generate([self.knowledge_prompt(t, demos1)], sampling(self.cfg.stage1))[0]
        knowledge = prompts.first_line(gen1.text)
        gen2 = self.backend.generate([self.response_prompt(t, knowledge, demos2)], sampling(self.cfg.stage2))[0]
        return knowledge, prompts.first_line(gen2.text)
