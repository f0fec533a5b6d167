"""Load a trained generator, optionally with a retriever: what ``reprover prove --generator CKPT`` calls."""

from __future__ import annotations

import os

import torch
from transformers import AutoConfig

from repro.train.checkpoint import load_model_state
from repro.train.config import from_dict
from reprover.data.corpus import Corpus
from reprover.generation.config import GeneratorRunConfig
from reprover.generation.generator import ReProverGenerator
from reprover.generation.model import seq2seq_from_hf_config
from reprover.training.export import load_model_files


def load_generator_model(path: str | os.PathLike):
    """(seq2seq model in eval mode on CPU, tokenizer, run config); mismatches raise CheckpointError."""
    files = load_model_files(path, "generator")
    cfg = from_dict(GeneratorRunConfig, files.run_config)
    hf = dict(files.hf_config)
    model_type = hf.pop("model_type", "t5")
    model = seq2seq_from_hf_config(AutoConfig.for_model(model_type, **hf))
    load_model_state(model, files.state, source=str(files.source))
    return model.eval(), files.tokenizer, cfg


def load_generator(ckpt: str | os.PathLike, retriever_ckpt: str | os.PathLike | None = None, *,
                   data_dir: str | os.PathLike | None = None, corpus: Corpus | None = None,
                   device: torch.device | str | None = None, num_retrieved: int | None = None) -> ReProverGenerator:
    """A :class:`ReProverGenerator`; with ``retriever_ckpt`` it retrieves from a corpus at each call.

    The corpus is ``corpus``, else ``data_dir``'s corpus.jsonl, else the generator's training data folder.
    """
    model, tokenizer, cfg = load_generator_model(ckpt)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    retriever = None
    if retriever_ckpt is not None:
        from reprover.retrieval.checkpoint import load_dense_retriever

        if corpus is None:
            from reprover.data.benchmark import Benchmark

            corpus = Benchmark(data_dir if data_dir is not None else cfg.data.data_path).corpus
        retriever = load_dense_retriever(retriever_ckpt, corpus, device=device)
    return ReProverGenerator(model, tokenizer, retriever, num_retrieved or cfg.data.num_retrieved,
                             cfg.model.eval_max_inp_seq_len, cfg.model.max_oup_seq_len,
                             cfg.decoding.length_penalty, device)
