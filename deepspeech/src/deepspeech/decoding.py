"""Choosing and running a CTC decoder: flashlight-text (default) or the reference, in worker processes.

A test set's posteriors are decoded in parallel worker processes (``decode_all(..., workers=N)``): each
worker builds its own decoder once from a picklable :class:`DecoderSpec` (native decoder objects cannot be
sent between processes), then decodes its share; the texts come back in the input order.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from deepspeech import flashlight_decode
from deepspeech.config import DecoderConfig
from deepspeech.decode import BeamSearchDecoder
from deepspeech.features import make_vocab
from deepspeech.mandarin.text import vocab_lang
from deepspeech.ngram import NGramLM

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecoderSpec:
    """Everything needed to build a beam decoder in any process."""

    vocab: str
    lm_path: str
    kind: str = "flashlight"
    beam_width: int = 100
    alpha: float = 0.5
    beta: float = 1.0
    cutoff_top_n: int = 40
    cutoff_prob: float = 0.99
    lexicon_path: str = ""
    beam_threshold: float = 0.0  # flashlight only; 0 = no score pruning (DecoderConfig.beam_threshold)

    @classmethod
    def from_config(cls, cfg: DecoderConfig, vocab: str) -> DecoderSpec:
        return cls(vocab, cfg.lm_path, cfg.kind, cfg.beam_width, cfg.alpha, cfg.beta, cfg.cutoff_top_n,
                   cfg.cutoff_prob, cfg.lexicon_path, cfg.beam_threshold)


def build_decoder(spec: DecoderSpec, lm: NGramLM | None = None):
    """The decoder ``spec`` names; flashlight falls back to the reference (logged) when its wheel is missing.
    ``lm`` lets callers share one loaded reference LM across many decoders (a tuning grid)."""
    vocab = make_vocab(spec.vocab)
    if vocab_lang(vocab) == "cmn":  # no word separator: the LM scores every character (deepspeech.mandarin.decode)
        from deepspeech.mandarin.decode import CharLMBeamSearchDecoder

        lm = lm if lm is not None else (NGramLM.load(spec.lm_path) if spec.lm_path else None)
        return CharLMBeamSearchDecoder(vocab, lm, spec.beam_width, spec.alpha, spec.beta, spec.cutoff_top_n,
                                       spec.cutoff_prob)
    kind = spec.kind
    if kind == "flashlight" and not flashlight_decode.available():
        log.warning("flashlight-text is not installed (pip install flashlight-text); using the reference decoder")
        kind = "reference"
    if kind == "flashlight":
        return flashlight_decode.FlashlightDecoder(
            vocab, spec.lm_path or None, spec.beam_width, spec.alpha, spec.beta, spec.cutoff_top_n,
            spec.cutoff_prob, spec.lexicon_path or None, spec.beam_threshold)
    if kind != "reference":
        raise ValueError(f"decoder kind {kind!r} is not one of 'flashlight', 'reference'")
    if spec.lexicon_path:
        raise ValueError("--lexicon is used by the flashlight decoder only; drop it or pass --decoder flashlight")
    if spec.beam_threshold:
        log.info("beam_threshold %g is a flashlight option; the reference decoder keeps its exact beam",
                 spec.beam_threshold)
    lm = lm if lm is not None else (NGramLM.load(spec.lm_path) if spec.lm_path else None)
    return BeamSearchDecoder(vocab, lm, spec.beam_width, spec.alpha, spec.beta, spec.cutoff_top_n, spec.cutoff_prob)


_worker_decoder = None


def _init_worker(spec: DecoderSpec) -> None:
    global _worker_decoder  # one decoder per worker process, built once (process-local, not shared state)
    _worker_decoder = build_decoder(spec)


def _decode_in_worker(log_probs: np.ndarray) -> str:
    return _worker_decoder.decode(log_probs)


def decode_all(spec: DecoderSpec, posteriors: list[np.ndarray], workers: int = 1) -> list[str]:
    """Texts of all ``posteriors`` in order; ``workers`` > 1 decodes in that many processes."""
    if workers < 1:
        raise ValueError(f"--workers {workers}: need at least 1")
    if workers == 1 or len(posteriors) < 2:
        decoder = build_decoder(spec)
        return [decoder.decode(lp) for lp in posteriors]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(min(workers, len(posteriors)), mp_context=context, initializer=_init_worker,
                             initargs=(spec,)) as pool:
        return list(pool.map(_decode_in_worker, posteriors, chunksize=max(1, len(posteriors) // (4 * workers))))
