"""The retriever's config: model shape, data/negative sampling, loss, and the shared trainer section.

Defaults are the official values (RP ``retrieval/confs/cli_lean4_random.yaml``); ``configs/
retriever_byt5_small.json`` spells them out with ``_source``, ``configs/retriever_tiny.json`` shrinks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ninerepro.train import TrainerConfig
from reprover.retrieval.arch import ArchConfig
from reprover.retrieval.loss import LossName


@dataclass
class RetrieverModelConfig:
    arch: ArchConfig = field(default_factory=ArchConfig)
    max_seq_len: int = 1024
    """training truncation in tokens (= UTF-8 bytes + EOS for ByT5) (yaml data.max_seq_len)"""
    index_max_seq_len: int = 2048
    """truncation when embedding the corpus and states for search (RP retrieval/index.py)"""


@dataclass
class RetrieverDataConfig:
    data_path: str = "../data/leandojo_benchmark_4"
    """benchmark root holding corpus.jsonl and <split>/{train,val,test}.json; a relative path is read from the
    working directory, which for ``train.py`` is ``leandojo/``: there this is ``<repo>/data/leandojo_benchmark_4``,
    where ``make data-leandojo`` puts the release"""
    split: Literal["random", "novel_premises"] = "random"
    num_negatives: int = 3
    """negatives per example, in-file ones included (yaml data.num_negatives)"""
    num_in_file_negatives: int = 1
    """negatives from the positive premise's own file (yaml data.num_in_file_negatives)"""
    batch_size: int = 8
    eval_batch_size: int = 64
    num_retrieved: int = 100
    """premises ranked per state for evaluation (yaml model.num_retrieved)"""
    val_max_queries: int = 0
    """cap on val tactics scored at each validation (0 = all); the corpus is re-embedded every time"""
    num_workers: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.num_in_file_negatives <= self.num_negatives:
            raise ValueError(f"data.num_in_file_negatives ({self.num_in_file_negatives}) must be between 0 and "
                             f"data.num_negatives ({self.num_negatives})")
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {self.batch_size}")


@dataclass
class RetrieverLossConfig:
    name: LossName = "mse"
    """mse = the released code; contrastive = the paper's DPR-style InfoNCE"""
    temperature: float = 0.05
    """contrastive only (ours; the paper gives none)"""


@dataclass
class RetrieverRunConfig:
    kind: Literal["retriever"] = "retriever"
    """tags checkpoints so a generator checkpoint is never loaded as a retriever"""
    model: RetrieverModelConfig = field(default_factory=RetrieverModelConfig)
    data: RetrieverDataConfig = field(default_factory=RetrieverDataConfig)
    loss: RetrieverLossConfig = field(default_factory=RetrieverLossConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)
