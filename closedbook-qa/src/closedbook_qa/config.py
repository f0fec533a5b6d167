"""Run settings as one dataclass, loaded from ``configs/*.json`` plus ``key=value`` overrides (ninerepro.train.config).

Defaults are the official CGAP values (zixianwang2022/Megatron-LM 94f438eb, ``tasks/odqa/``; see
``configs/cgap_official.json`` for the citations). Only ``early_stop`` is ours: it ends a generation once the
part the method keeps is complete, which changes no kept text, only the time spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ninerepro.train.config import ConfigError

RETRIEVERS = ("dense", "bm25")
WEIGHTINGS = ("mean", "sum", "uniform")


@dataclass
class ContextGenConfig:
    """Stage 1: sample a passage for the question."""

    max_new_tokens: int = 100
    top_p: float = 0.9
    top_k: int = 0
    """0 = no top-k cut (official ``top_k=0``)."""
    temperature: float = 1.0
    min_line_chars: int = 5
    """Keep the first stripped line of at least this many characters."""
    seed: int = 1234
    """Sample i is seeded ``seed + seed_stride * i``; 1234 is Megatron's ``--seed`` default."""
    seed_stride: int = 10
    early_stop: bool = True


@dataclass
class AnswerConfig:
    """Stage 2 (and the direct baseline): greedy answer."""

    max_new_tokens: int = 10
    early_stop: bool = True


@dataclass
class DemoConfig:
    """Demonstrations retrieved from the training pool, shared by both stages."""

    num_demos: int = 10
    retriever: str = "dense"
    encoder: str | None = None
    """Sentence-encoder folder; None = the embedded all-MiniLM-L6-v2 (official: DPR multiset encoders)."""
    pooling: str = "mean"
    max_prompt_tokens: int = 2048

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ConfigError(f"demos.retriever={self.retriever!r}; choose one of {list(RETRIEVERS)}")
        if self.num_demos < 0:
            raise ConfigError(f"demos.num_demos={self.num_demos} must be >= 0")


@dataclass
class RunConfig:
    k: int = 8
    """Contexts sampled per question."""
    ks: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    """Prefix sizes reported in the EM-by-k table (the first k' of the k contexts)."""
    stage1: ContextGenConfig = field(default_factory=ContextGenConfig)
    stage2: AnswerConfig = field(default_factory=AnswerConfig)
    demos: DemoConfig = field(default_factory=DemoConfig)
    direct: bool = True
    """Also run the direct closed-book few-shot baseline."""
    official_cleaning: bool = False
    weighting: str = "mean"
    batch_size: int = 8
    """Prompts per backend call; with HF, k keeps one question's samples in one batch (shared prefix)."""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"k={self.k}: at least one context per question is needed; pass --k 1 or more")
        bad = [x for x in self.ks if not 1 <= x <= self.k]
        if bad:
            raise ConfigError(f"ks={self.ks}: {bad} outside 1..k={self.k}; list prefix sizes up to k")
        if self.weighting not in WEIGHTINGS:
            raise ConfigError(f"weighting={self.weighting!r}; choose one of {list(WEIGHTINGS)}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be >= 1")
