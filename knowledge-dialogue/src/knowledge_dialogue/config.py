"""Run settings as one dataclass, loaded from ``configs/*.json`` plus ``key=value`` overrides (ninerepro.train.config).

Defaults are the official MSDP values (NVIDIA/Megatron-LM 164204cd, ``tasks/msdp/`` and
``examples/academic_paper_scripts/msdp/``; ``configs/msdp_official.json`` cites each). Ours: the default
sentence encoder (the embedded all-MiniLM-L6-v2; official: a WoW-fine-tuned DPR question encoder),
``cross_topic_order`` (see :mod:`knowledge_dialogue.demos`) and stopping at the first newline, which changes
no kept text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ninerepro.train.config import ConfigError

RETRIEVERS = ("dense", "bm25")
ORDERS = ("descending", "ascending")


@dataclass
class Stage1DemoConfig:
    """Knowledge-generation demonstrations, chosen per test item by similarity."""

    num_demos: int = 10
    retriever: str = "dense"
    encoder: str | None = None
    """Encoder folder; None = the embedded all-MiniLM-L6-v2. Official: DPR question encoder (pooling cls, raw)."""
    pooling: str = "mean"
    normalize: bool = True
    cross_topic_order: str = "descending"
    """Unseen topics: take the most similar items ("descending") or, as the official code does, the least."""

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ConfigError(f"demos1.retriever={self.retriever!r}; choose one of {list(RETRIEVERS)}")
        if self.cross_topic_order not in ORDERS:
            raise ConfigError(f"demos1.cross_topic_order={self.cross_topic_order!r}; choose one of {list(ORDERS)}")
        if self.num_demos < 0:
            raise ConfigError(f"demos1.num_demos={self.num_demos} must be >= 0")


@dataclass
class Stage2DemoConfig:
    """Response-generation demonstrations: fixed for the whole test set."""

    num_demos: int = 20
    filter_overlap: bool = True
    min_run: int = 10
    """Only runs of at least this many consecutive knowledge tokens in the response count as copied."""
    min_copy: float = 0.6
    max_copy: float = 0.9
    min_cover: float = 0.8
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.num_demos < 0:
            raise ConfigError(f"demos2.num_demos={self.num_demos} must be >= 0")
        if not 0 <= self.min_copy <= self.max_copy:
            raise ConfigError(f"demos2.min_copy={self.min_copy} / max_copy={self.max_copy}: need 0 <= min <= max")


@dataclass
class DecodeConfig:
    """Greedy decoding, cut at the first newline (both stages)."""

    max_new_tokens: int = 100
    stop_at_newline: bool = True
    """Stop generating at the first newline; the kept text (everything before it) is the same either way."""


@dataclass
class RunConfig:
    demos1: Stage1DemoConfig = field(default_factory=Stage1DemoConfig)
    demos2: Stage2DemoConfig = field(default_factory=Stage2DemoConfig)
    stage1: DecodeConfig = field(default_factory=DecodeConfig)
    stage2: DecodeConfig = field(default_factory=DecodeConfig)
    baseline: bool = True
    """Also run the single-stage baseline: the stage-2 prompt without the knowledge ("SSDP")."""
    batch_size: int = 8
    max_prompt_tokens: int = 2048
    """The official model's sequence length; prompts over it lose their first (least similar) demos."""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be >= 1")
