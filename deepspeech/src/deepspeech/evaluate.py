"""Corpus WER/CER with a per-utterance report, worst first.

Scoring normalisation is explicit and the same for reference and hypothesis: ``normalize_for_scoring``
folds case, turns hyphens into spaces, drops every character but letters, apostrophes and spaces, and
collapses whitespace (ninerepro.text.ctc.normalize_for_ctc). The rates themselves are ninerepro.metrics's, which
equal jiwer's defaults (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from deepspeech.config import DeepSpeechConfig
from deepspeech.data import Utterance
from deepspeech.decode import greedy_decode
from deepspeech.features import compute_features, make_vocab, min_samples, pad_features
from deepspeech.mandarin.text import score_cmn, vocab_lang
from ninerepro.audio import load_wav
from ninerepro.metrics import cer, edit_stats, wer
from ninerepro.text.ctc import normalize_for_ctc


def normalize_for_scoring(text: str) -> str:
    """The text form both sides are scored in: lower case, letters/apostrophes/single spaces only."""
    return normalize_for_ctc(text)


def score(references: list[str], hypotheses: list[str], lang: str = "en") -> dict:
    """Corpus WER/CER after ``normalize_for_scoring`` plus per-utterance rows sorted by word errors.
    ``lang="cmn"``: Mandarin normalisation and CER only (deepspeech.mandarin.text.score_cmn)."""
    if lang == "cmn":
        return score_cmn(references, hypotheses)
    refs = [normalize_for_scoring(r) for r in references]
    hyps = [normalize_for_scoring(h) for h in hypotheses]
    rows = []
    for i, (r, h) in enumerate(zip(refs, hyps)):
        stats = edit_stats([r], [h], "word")
        rows.append({"index": i, "reference": r, "hypothesis": h, "word_errors": stats.errors,
                     "ref_words": len(r.split()), "cer": cer([r], [h]) if r else float(len(h))})
    rows.sort(key=lambda row: (-row["word_errors"], -row["cer"], row["index"]))
    return {"wer": wer(refs, hyps), "cer": cer(refs, hyps), "n": len(refs), "utterances": rows}


@torch.inference_mode()
def posteriors_of(model: nn.Module, cfg: DeepSpeechConfig, utterances: list[Utterance],
                  batch_size: int = 16) -> list[np.ndarray]:
    """[T'_i, C] log-posteriors of each utterance (model in its current mode; callers set eval)."""
    device = next(model.parameters()).device
    out: list[np.ndarray] = []
    for start in range(0, len(utterances), batch_size):
        chunk = utterances[start : start + batch_size]
        feats = [compute_features(_at_least(load_wav(u.audio, cfg.features.sample_rate)[0], cfg), cfg.features,
                                  cfg.model.arch) for u in chunk]
        x, lengths = pad_features(feats)
        log_probs, out_lengths = model(x.to(device), lengths.to(device))
        lp = log_probs.float().cpu().numpy()
        out += [lp[i, : int(n)] for i, n in enumerate(out_lengths.cpu())]
    return out


def _at_least(wav: np.ndarray, cfg: DeepSpeechConfig) -> np.ndarray:
    """Audio too short for one STFT window is zero-padded so it is still scored (typically as all deletions)."""
    short = min_samples(cfg.features) - len(wav)
    return np.pad(wav, (0, short)) if short > 0 else wav


def evaluate_utterances(model: nn.Module, cfg: DeepSpeechConfig, utterances: list[Utterance],
                        batch_size: int = 16, decode: Callable[[np.ndarray], str] | None = None) -> dict:
    """Decode every utterance (greedy unless ``decode`` is given) and score it."""
    was_training = model.training
    model.eval()
    try:
        posts = posteriors_of(model, cfg, utterances, batch_size)
    finally:
        model.train(was_training)
    vocab = make_vocab(cfg.model.vocab)
    decode = decode or (lambda lp: greedy_decode(lp, vocab))
    return score([u.text for u in utterances], [decode(lp) for lp in posts], vocab_lang(vocab))
