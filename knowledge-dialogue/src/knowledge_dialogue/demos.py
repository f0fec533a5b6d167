"""Demonstrations as the official code picks them (Megatron-LM ``tasks/msdp/preprocessing.py``).

**Stage 1** (``get_knwl_gen_prompts``), per test item. The database is the training TSV minus knowledge
``no_passages_used``; for test sets other than WoW seen, also minus knowledge with a parenthesis or without
the topic string in it. Each database item is embedded by its *dialogue example*: (for non-seen sets
``"( topic ) "``) + its last three turns joined by spaces; the test query is ``"( topic ) "`` + the test's last
three turns (always with the prefix: the official test compares against ``"seen"`` while the set is named
``"wow_seen"``). Then

- the test topic occurs in the database: the ``min(10, available)`` most similar items *of that topic*;
- otherwise: the database items whose topic is not a test topic, further filtered to knowledge of at most 20
  words not starting with It/it/This/this (same-topic items of other test topics stay), ranked by similarity,
  taking one item per distinct topic until 10.

Both lists are reversed (most similar last, next to the test line). The official cross-topic branch sorts
ascending, i.e. takes the *least* similar items; ``cross_topic_order="ascending"`` reproduces that, the
default ``"descending"`` does what the paper describes. Demos are computed once per key
``topic + " " + last turn``; later items with the same key reuse the first one's.

**Stage 2** (``get_resp_gen_prompts``), fixed for the whole test set: training items with knowledge, whose
response copies knowledge tokens in runs of at least 10 (counted only inside such runs) for 60–90 % of its
tokens and covers at least 80 % of the knowledge tokens; each written as ``Topic: t. User says: <last turn>
We know that: <k> System replies: <r>`` (NLTK-tokenised), shuffled with ``numpy.random.seed(1234)``, first 20.
``filter_overlap=False`` skips the overlap filter (the paper's "random samples" ablation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_dialogue.config import Stage1DemoConfig, Stage2DemoConfig
from knowledge_dialogue.data import NO_KNOWLEDGE, Sample
from knowledge_dialogue.tokens import tokenized, word_tokenize


@dataclass(frozen=True)
class Entry:
    """One stage-1 database item: its topic, the text it is embedded by and its demonstration line."""

    topic: str
    example: str
    instance: str


def dialog_example(s: Sample, with_topic: bool) -> str:
    return ("( " + s.topic + " ) " if with_topic else "") + " ".join(s.turns[-3:])


def stage1_instance(s: Sample) -> str:
    return "( " + s.last_turn + " ) " + s.topic + " => " + s.knowledge


def _short_enough(knowledge: str) -> bool:
    """The extra filter on cross-topic items: at most 20 words, not opening with It/This."""
    return len(knowledge.split()) <= 20 and not knowledge.startswith(("It", "it", "This", "this"))


class _Scorer:
    """Similarity of queries to every text of a fixed list: dense dot products (cached) or BM25 scores."""

    def __init__(self, cfg: Stage1DemoConfig, texts: Sequence[str], cache_dir: str | Path | None, device: str,
                 encoder=None):
        self.kind, self.n = cfg.retriever, len(texts)
        if not texts:
            return
        if self.kind == "bm25":
            from ninerepro.lm.retrieval import BM25Retriever

            self.bm25 = BM25Retriever(texts).bm25
            return
        from ninerepro.lm.retrieval import HFMeanPoolEncoder, cached_embeddings

        self.encoder = encoder or HFMeanPoolEncoder(cfg.encoder, pooling=cfg.pooling, normalize=cfg.normalize,
                                                    device=device)
        self.emb = cached_embeddings(self.encoder, list(texts), cache_dir)  # [N, D]

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """[Q, N] similarities."""
        if self.n == 0:
            return np.zeros((len(queries), 0))
        if self.kind == "bm25":
            from ninerepro.lm.retrieval import _bm25_tokens

            return np.stack([self.bm25.get_scores(_bm25_tokens(q)) for q in queries])
        q = np.asarray(self.encoder.encode(list(queries)), dtype=np.float32)  # [Q, D]
        return q @ self.emb.T


class Stage1Selector:
    """The official stage-1 selection over a training set, embedded once and reused for any test items.

    ``seen`` is whether the test set is WoW seen (official ``data_type == "wow_seen"``): it decides the
    database filters and whether database items carry the ``"( topic ) "`` prefix."""

    def __init__(self, train: Sequence[Sample], cfg: Stage1DemoConfig, *, seen: bool,
                 cache_dir: str | Path | None = None, device: str = "cpu", encoder=None):
        self.cfg, self.seen = cfg, seen
        self.entries = [Entry(s.topic, dialog_example(s, with_topic=not seen), stage1_instance(s)) for s in train
                        if s.knowledge != NO_KNOWLEDGE
                        and (seen or not ("(" in s.knowledge or ")" in s.knowledge or s.topic not in s.knowledge))]
        self.short = [_short_enough(e.instance.rsplit(" => ", 1)[1]) for e in self.entries]
        self.topics = {e.topic for e in self.entries}
        self.scorer = _Scorer(cfg, [e.example for e in self.entries], cache_dir, device, encoder)

    def knows(self, topic: str) -> bool:
        """Whether the topic has database items (else demos come from other topics)."""
        return topic in self.topics

    def select(self, tests: Sequence[Sample]) -> dict[str, list[str]]:
        """Demonstration lines per test key (``Sample.key``), least similar first."""
        first: dict[str, Sample] = {}
        for t in tests:
            first.setdefault(t.key, t)
        firsts = list(first.values())
        test_topics = {t.topic for t in tests}
        cross = [i for i, e in enumerate(self.entries) if e.topic in test_topics or self.short[i]]
        sims = self.scorer.scores(["( " + t.topic + " ) " + " ".join(t.turns[-3:]) for t in firsts])
        out: dict[str, list[str]] = {}
        for t, row in zip(firsts, sims):
            if self.cfg.num_demos == 0:
                out[t.key] = []
                continue
            if t.topic in self.topics:
                own = [i for i, e in enumerate(self.entries) if e.topic == t.topic]
                top = np.argsort(-row[own], kind="stable")[: min(self.cfg.num_demos, len(own))]
                picked = [self.entries[own[j]].instance for j in top]
            else:
                sign = 1 if self.cfg.cross_topic_order == "ascending" else -1
                order = np.argsort(sign * row[cross], kind="stable") if cross else []
                seen_topics: set[str] = set()
                picked = []
                for j in order:
                    e = self.entries[cross[j]]
                    if e.topic not in seen_topics:
                        seen_topics.add(e.topic)
                        picked.append(e.instance)
                        if len(picked) == self.cfg.num_demos:
                            break
            out[t.key] = picked[::-1]
        return out


def knowledge_overlap(knowledge: str, response: str, min_run: int = 10) -> tuple[int, int, int]:
    """(copied tokens in runs >= ``min_run``, response tokens, knowledge tokens), NLTK tokens."""
    k_tokens = word_tokenize(knowledge)
    k_set = set(k_tokens)
    r_tokens = word_tokenize(response)
    copied = run = 0
    for tok in r_tokens:
        if tok in k_set:
            run += 1
        else:
            if run >= min_run:
                copied += run
            run = 0
    if run >= min_run:
        copied += run
    return copied, len(r_tokens), len(k_tokens)


def stage2_demo(s: Sample) -> str:
    return (f"Topic: {s.topic}. User says: {tokenized(s.last_turn)} We know that: {tokenized(s.knowledge)} "
            f"System replies: {tokenized(s.response)}")


def select_stage2(train: Sequence[Sample], cfg: Stage2DemoConfig) -> list[Sample]:
    """The fixed response-generation demonstrations (as samples, so the baseline can drop the knowledge)."""
    keep = []
    for s in train:
        if s.knowledge == NO_KNOWLEDGE:
            continue
        if cfg.filter_overlap:
            copied, n_resp, n_knwl = knowledge_overlap(s.knowledge, s.response, cfg.min_run)
            if not (cfg.min_copy * n_resp <= copied <= cfg.max_copy * n_resp) or copied < cfg.min_cover * n_knwl:
                continue
        keep.append(s)
    np.random.RandomState(cfg.seed).shuffle(keep)  # = np.random.seed(seed); np.random.shuffle(list)
    return keep[: cfg.num_demos]
