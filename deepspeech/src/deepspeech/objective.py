"""The decoding objective scored exactly, to explain why two beam searches return different texts.

Both decoders maximise Q(y) = ln p_ctc(y|x) + alpha ln p_lm(y) + beta |words(y)| (DS2 §3.8), but search it
differently, so on real posteriors they can disagree. ``explain`` scores both answers exactly (the CTC
forward sum over all alignments, the LM with ``</s>``) and names the reason:

- ``reference_search``: the flashlight text scores higher, so the reference's beam lost it. Its beam ranks
  prefixes without the LM's look-ahead on partial words, and it may keep misspelt prefixes alive because it
  scores a word outside the LM as ``<unk>`` (the ARPA's ``<unk>`` probability) where flashlight forbids it.
- ``oov``: the reference text scores higher and has a word outside the flashlight lexicon (the LM's words):
  the open-vocabulary answer is better and the lexicon decoder cannot spell it (unknown-word score -inf).
- ``flashlight_search``: the reference text scores higher, all its words are in the lexicon; flashlight's
  beam lost it. Its beam ranks partial
  words by the best unigram they can still become (trie smearing), which favours prefixes of frequent words,
  and it merges hypotheses that share LM state and trie node (recombination), keeping one text for both.
- ``tie``: equal scores within 1e-4 (either answer is right).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from deepspeech.ngram import BOS, EOS, NGramLM
from ninerepro.text.ctc import CharVocab

LN10 = math.log(10.0)
TIE = 1e-4


def ctc_log_likelihood(log_probs: np.ndarray, text: str, vocab: CharVocab) -> float:
    """ln p_ctc(text | x): all alignments of ``text`` summed (torch's CTC forward algorithm)."""
    lp = torch.from_numpy(np.asarray(log_probs, dtype=np.float32))[:, None]  # [T, 1, C]
    labels = vocab.encode(text)
    if not labels:
        return float(lp[:, 0, 0].double().sum())
    targets = torch.tensor(labels, dtype=torch.long).reshape(1, -1)
    loss = torch.nn.functional.ctc_loss(lp, targets, torch.tensor([len(lp)]), torch.tensor([len(labels)]),
                                        reduction="sum", zero_infinity=False)
    return -float(loss)


def lm_score(text: str, lm: NGramLM, alpha: float, beta: float) -> float:
    """alpha ln p_lm(words, </s>) + beta |words| (case folded, as both decoders score)."""
    words = text.lower().split()
    history, total = [BOS], 0.0
    for w in [*words, EOS]:
        total += lm.log10_prob(w, history) * LN10
        history.append(w)
    return alpha * total + beta * len(words)


def objective(log_probs: np.ndarray, text: str, vocab: CharVocab, lm: NGramLM, alpha: float, beta: float) -> float:
    """Q(text) of DS2 §3.8, exactly."""
    return ctc_log_likelihood(log_probs, text, vocab) + lm_score(text, lm, alpha, beta)


@dataclass
class Difference:
    reason: str
    """oov | reference_search | flashlight_search | tie | same"""
    q_flashlight: float
    q_reference: float


def explain(log_probs: np.ndarray, flashlight_text: str, reference_text: str, vocab: CharVocab, lm: NGramLM,
            alpha: float, beta: float, lexicon: set[str]) -> Difference:
    """Why two decoders' answers for one utterance differ (``lexicon``: the flashlight decoder's words,
    lower case)."""
    q_fl = objective(log_probs, flashlight_text, vocab, lm, alpha, beta)
    q_ref = objective(log_probs, reference_text, vocab, lm, alpha, beta)
    if flashlight_text == reference_text:
        return Difference("same", q_fl, q_ref)
    if abs(q_fl - q_ref) <= TIE:
        return Difference("tie", q_fl, q_ref)
    if q_fl > q_ref:
        return Difference("reference_search", q_fl, q_ref)
    if any(w not in lexicon for w in reference_text.lower().split()):
        return Difference("oov", q_fl, q_ref)
    return Difference("flashlight_search", q_fl, q_ref)
