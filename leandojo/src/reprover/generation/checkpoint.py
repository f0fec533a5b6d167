"""Load a trained generator, optionally with a retriever: what ``reprover prove --generator CKPT`` calls."""

from __future__ import annotations

import os

import torch
from transformers import AutoConfig

from ninerepro.train.checkpoint import load_model_state
from ninerepro.train.config import from_dict
from reprover.convert import hf_generator_uses_retrieval, is_hf_folder, is_hub_id, load_hf_generator
from reprover.data.corpus import Corpus
from reprover.generation.config import GeneratorRunConfig
from reprover.generation.generator import ReProverGenerator
from reprover.generation.model import seq2seq_from_hf_config
from reprover.training.export import load_model_files


def load_generator_model(path: str | os.PathLike):
    """(seq2seq model in eval mode on CPU, tokenizer, run config); mismatches raise CheckpointError.

    ``path`` is one of ours or a released HF folder / hub id (:mod:`reprover.convert`); for the latter the run
    config holds ReProver's evaluation defaults.
    """
    if is_hf_folder(path) or is_hub_id(str(path)):
        return load_hf_generator(path)
    files = load_model_files(path, "generator")
    cfg = from_dict(GeneratorRunConfig, files.run_config)
    hf = dict(files.hf_config)
    model_type = hf.pop("model_type", "t5")
    model = seq2seq_from_hf_config(AutoConfig.for_model(model_type, **hf))
    load_model_state(model, files.state, source=str(files.source))
    return model.eval(), files.tokenizer, cfg


class RetrieverRequiredError(ValueError):
    """A generator trained on retrieved premises was asked to run without a retriever."""


def uses_retrieval(ckpt: str | os.PathLike, cfg: GeneratorRunConfig) -> bool:
    """Was this generator trained with premises prepended? Ours record it; released HF folders by name."""
    if is_hf_folder(ckpt) or is_hub_id(str(ckpt)):
        return hf_generator_uses_retrieval(ckpt)
    return cfg.data.retriever is not None


def load_generator(ckpt: str | os.PathLike, retriever_ckpt: str | os.PathLike | None = None, *,
                   data_dir: str | os.PathLike | None = None, corpus: Corpus | None = None,
                   device: torch.device | str | None = None, num_retrieved: int | None = None,
                   indexed_corpus: str | os.PathLike | None = None, allow_no_retriever: bool = False,
                   premise_marks: str = "strip", dtype: str = "auto", max_inp_seq_len: int | None = None,
                   max_oup_seq_len: int | None = None) -> ReProverGenerator:
    """A :class:`ReProverGenerator`; with ``retriever_ckpt`` it retrieves from a corpus at each call.

    The corpus is ``corpus``, else ``data_dir``'s corpus.jsonl, else the generator's training data folder.
    ``indexed_corpus`` is a saved premise index (``reprover index``) used instead of embedding the corpus.
    A generator trained with retrieval refuses to run without a retriever (it would read inputs unlike any it
    was trained on) unless ``allow_no_retriever``. ``premise_marks``: "strip" (ours, as in training) or "keep"
    (RP at proof time). ``dtype``: "auto" = bfloat16 on CUDA, float32 on CPU; or "float32" / "bfloat16".
    ``max_inp_seq_len`` / ``max_oup_seq_len`` override the config's proof-time lengths (RP evaluate's options of
    the same names; defaults 2048 bytes / 512 tokens).
    """
    model, tokenizer, cfg = load_generator_model(ckpt)
    if retriever_ckpt is None and uses_retrieval(ckpt, cfg) and not allow_no_retriever:
        raise RetrieverRequiredError(
            f"--generator {ckpt} was trained with retrieved premises (retriever: {cfg.data.retriever or 'released'}"
            "); pass --retriever MODEL (the one it was trained with), or --allow-no-retriever to run it on bare "
            "states anyway")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.to(_dtype(dtype, device))
    retriever = None
    if retriever_ckpt is not None:
        from reprover.retrieval.checkpoint import load_dense_retriever

        if corpus is None:
            from reprover.data.benchmark import Benchmark

            corpus = Benchmark(data_dir if data_dir is not None else cfg.data.data_path).corpus
        retriever = load_dense_retriever(retriever_ckpt, corpus, device=device, indexed_corpus=indexed_corpus,
                                         dtype=dtype)
    return ReProverGenerator(model, tokenizer, retriever, num_retrieved or cfg.data.num_retrieved,
                             max_inp_seq_len or cfg.model.eval_max_inp_seq_len,
                             max_oup_seq_len or cfg.model.max_oup_seq_len,
                             cfg.decoding.length_penalty, device, premise_marks=premise_marks)


def _dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if name not in ("float32", "bfloat16"):
        raise ValueError(f"--dtype {name}: use auto, float32 or bfloat16")
    return getattr(torch, name)
