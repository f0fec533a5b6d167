"""Load a trained retriever (export folder, run folder or checkpoint file) for search and evaluation."""

from __future__ import annotations

import os

import torch
from transformers import AutoConfig

from repro.train.checkpoint import load_model_state
from repro.train.config import from_dict
from reprover.data.corpus import Corpus
from reprover.retrieval.config import RetrieverRunConfig
from reprover.retrieval.model import PremiseRetriever, encoder_from_hf_config
from reprover.retrieval.retriever import DenseRetriever
from reprover.training.export import load_model_files


def load_retriever_model(path: str | os.PathLike) -> tuple[PremiseRetriever, object, RetrieverRunConfig]:
    """(model in eval mode on CPU, tokenizer, run config); a mismatched checkpoint is a CheckpointError."""
    files = load_model_files(path, "retriever")
    cfg = from_dict(RetrieverRunConfig, files.run_config)
    hf = dict(files.hf_config)
    model_type = hf.pop("model_type", "t5")
    model = PremiseRetriever(encoder_from_hf_config(AutoConfig.for_model(model_type, **hf)))
    load_model_state(model, files.state, source=str(files.source))
    return model.eval(), files.tokenizer, cfg


def load_dense_retriever(path: str | os.PathLike, corpus: Corpus, device: torch.device | str = "cpu",
                         batch_size: int | None = None) -> DenseRetriever:
    """A ready :class:`DenseRetriever` over ``corpus`` (the corpus is embedded on first use)."""
    model, tokenizer, cfg = load_retriever_model(path)
    return DenseRetriever(model, tokenizer, corpus, max_seq_len=cfg.model.index_max_seq_len,
                          batch_size=batch_size or cfg.data.eval_batch_size, device=device)
