"""The tactic generator's network: a seq2seq transformer (ByT5-small by default; any HF encoder-decoder).

Training minimises token cross-entropy on the human tactic (labels padded with -100, RP ``generation/
model.py``); the HF model computes it when given ``labels``. Decoding is :mod:`reprover.generation.generator`.
"""

from __future__ import annotations

from transformers import PretrainedConfig, PreTrainedModel

from reprover.retrieval.arch import ArchConfig


def build_seq2seq(arch: ArchConfig) -> PreTrainedModel:
    """Random-init T5 of ``arch``'s shape (no download), or a pretrained HF encoder-decoder."""
    if arch.pretrained is None:
        from transformers import T5ForConditionalGeneration

        return T5ForConditionalGeneration(arch.t5_config())
    from transformers import AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM.from_pretrained(arch.pretrained)


def seq2seq_from_hf_config(config: PretrainedConfig) -> PreTrainedModel:
    """The layout of ``config`` with random weights; a checkpoint's weights are loaded next."""
    from transformers import AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM.from_config(config)
