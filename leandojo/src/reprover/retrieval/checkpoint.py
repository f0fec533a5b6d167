"""Load a trained retriever (export folder, run folder or checkpoint file) for search and evaluation."""

from __future__ import annotations

import os

import torch
from transformers import AutoConfig

from ninerepro.train.checkpoint import load_model_state
from ninerepro.train.config import from_dict
from reprover.data.corpus import Corpus
from reprover.retrieval.config import RetrieverRunConfig
from reprover.retrieval.model import PremiseRetriever, encoder_from_hf_config
from reprover.retrieval.retriever import DenseRetriever
from reprover.training.export import load_model_files


def load_retriever_model(path: str | os.PathLike) -> tuple[PremiseRetriever, object, RetrieverRunConfig]:
    """(model in eval mode on CPU, tokenizer, run config); a mismatched checkpoint is a CheckpointError.

    ``path`` is one of ours (export folder, run folder, checkpoint file) or a released HF folder / hub id
    (:mod:`reprover.convert`).
    """
    from reprover.convert import is_hf_folder, is_hub_id, load_hf_retriever

    if is_hf_folder(path) or is_hub_id(str(path)):
        return load_hf_retriever(path)
    files = load_model_files(path, "retriever")
    cfg = from_dict(RetrieverRunConfig, files.run_config)
    hf = dict(files.hf_config)
    model_type = hf.pop("model_type", "t5")
    model = PremiseRetriever(encoder_from_hf_config(AutoConfig.for_model(model_type, **hf)))
    load_model_state(model, files.state, source=str(files.source))
    return model.eval(), files.tokenizer, cfg


def load_dense_retriever(path: str | os.PathLike, corpus: Corpus, device: torch.device | str = "cpu",
                         batch_size: int | None = None,
                         indexed_corpus: str | os.PathLike | None = None, dtype: str = "float32") -> DenseRetriever:
    """A ready :class:`DenseRetriever` over ``corpus``.

    With ``indexed_corpus`` (a folder written by ``reprover index``) the premise embeddings are memory-mapped
    from disk and searched in place; otherwise the corpus is embedded on first use. ``dtype`` "bfloat16"
    (or "auto" on CUDA) runs the encoder in bf16; embeddings are always pooled and normalised in fp32.
    """
    model, tokenizer, cfg = load_retriever_model(path)
    device = torch.device(device)
    if dtype == "bfloat16" or (dtype == "auto" and device.type == "cuda"):
        model = model.to(torch.bfloat16)
    index = None
    if indexed_corpus is not None:
        from reprover.retrieval.index import PremiseIndex
        from reprover.retrieval.saved_index import load_index

        emb, _info = load_index(indexed_corpus, corpus, dim=model.embedding_size)
        index = PremiseIndex(emb, backend="numpy")
    return DenseRetriever(model, tokenizer, corpus, max_seq_len=cfg.model.index_max_seq_len,
                          batch_size=batch_size or cfg.data.eval_batch_size, device=device, index=index)
