"""The generator's config: model shape and lengths, data and retrieval, decoding, and the trainer section.

Defaults are the official values (RP ``generation/confs/cli_lean4_random.yaml`` and ``prover/evaluate.py``);
``configs/generator_byt5_small.json`` spells them out with ``_source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ninerepro.train import TrainerConfig
from reprover.retrieval.arch import ArchConfig


@dataclass
class GeneratorModelConfig:
    arch: ArchConfig = field(default_factory=ArchConfig)
    max_inp_seq_len: int = 2300
    """input byte budget in training (yaml data.max_inp_seq_len); premises fill what the state leaves"""
    max_oup_seq_len: int = 512
    """tactic length cap in tokens (yaml data.max_oup_seq_len)"""
    eval_max_inp_seq_len: int = 2048
    """input budget at proof time (RP prover CLI --max-inp-seq-len default)"""


@dataclass
class GeneratorDataConfig:
    data_path: str = "../data/leandojo_benchmark_4"
    """benchmark root; relative to the working directory (``leandojo/`` for ``train.py``), see the retriever's"""
    split: Literal["random", "novel_premises"] = "random"
    batch_size: int = 8
    eval_batch_size: int = 64
    p_drop: float = 0.5
    """probability of dropping each retrieved premise from a training input (yaml data.p_drop)"""
    retriever: str | None = None
    """trained retriever (export folder, run folder or checkpoint); None = the no-retrieval generator"""
    num_retrieved: int = 100
    """premises retrieved per state (yaml model.eval_num_retrieved)"""
    rename_premises: float = 0.0
    """toy-demo deviation (RP: 0): probability that a training example's retrieved premises get fresh random
    names, in the input and the target alike, so a randomly initialised generator must learn to copy names
    from its input (pretrained ByT5 already can); see ``generation.augment.rename_input_premises``"""
    insert_gold_premise: bool = False
    """toy-demo deviation (RP: off, the generator trains on retrieved premises only): a training example whose
    retrieved premises miss its tactic's gold premise gets it at a random rank (val is left as retrieved); with
    ``rename_premises`` this makes copying a name from the input the only rule that fits every example; see
    ``generation.dataset.generator_examples``"""
    val_max_examples: int = 0
    """cap on val tactics decoded at each validation (0 = all)"""
    num_workers: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_drop < 1.0:
            raise ValueError(f"data.p_drop must be in [0, 1), got {self.p_drop}")
        if not 0.0 <= self.rename_premises <= 1.0:
            raise ValueError(f"data.rename_premises must be in [0, 1], got {self.rename_premises}")


@dataclass
class DecodingConfig:
    num_sampled_tactics: int = 64
    """beams = returned tactics per state (RP prover --num-sampled-tactics)"""
    length_penalty: float = 0.0
    """0 = rank by summed token log-probability (yaml model.length_penalty)"""


@dataclass
class GeneratorRunConfig:
    kind: Literal["generator"] = "generator"
    """tags checkpoints so a retriever checkpoint is never loaded as a generator"""
    model: GeneratorModelConfig = field(default_factory=GeneratorModelConfig)
    data: GeneratorDataConfig = field(default_factory=GeneratorDataConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)
