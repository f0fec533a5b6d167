"""CTC decoding: greedy, word timings from the greedy alignment, and prefix beam search with a word n-gram LM.

The beam search maximises Q(y) = ln p_ctc(y|x) + alpha ln p_lm(y) + beta |words(y)| (DS1 §2.2, DS2 §3.8).
Each prefix keeps two CTC probabilities, ending in blank (p_b) and ending in a character (p_nb), so the
merging of repeats separated by a blank is exact. The LM is applied when a word is completed (a space
follows a letter) and once more at the end for the last word and </s>. Per frame only the most likely
characters are expanded: at most ``cutoff_top_n`` and only until their cumulative probability reaches
``cutoff_prob`` (DS2 §7.3).

Case is normalised once: ``NGramLM.load`` lower-cases the ARPA file's words, and every word of a prefix
(history and current word alike) is lower-cased before the LM sees it, whatever the vocabulary's case
(deepspeech.pytorch's is upper case). The returned text keeps the vocabulary's case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepspeech.config import DecoderConfig
from deepspeech.ngram import NGramLM
from ninerepro.text.ctc import CharVocab

NEG_INF = -float("inf")


def tidy(text: str) -> str:
    """Collapse runs of spaces and strip: the text form every decoder returns and every metric scores."""
    return " ".join(text.split())


def greedy_decode(log_probs: np.ndarray, vocab: CharVocab) -> str:
    """Per-frame argmax, merge repeats, drop blanks (the decoder deepspeech.pytorch validates with)."""
    return tidy(vocab.decode_greedy(np.asarray(log_probs).argmax(axis=-1)))


def word_timings(log_probs: np.ndarray, vocab: CharVocab, frame_seconds: float) -> list[dict]:
    """Words of the greedy path with start/end times from the frames of their first and last characters."""
    path = np.asarray(log_probs).argmax(axis=-1)
    words, chars, start, end, previous = [], [], 0, 0, 0
    for t, index in enumerate(path.tolist()):
        if index != previous and index != 0:
            char = vocab.symbols[index]
            if char == " ":
                if chars:
                    words.append({"word": "".join(chars), "start": start * frame_seconds,
                                  "end": (end + 1) * frame_seconds})
                chars = []
            else:
                if not chars:
                    start = t
                chars.append(char)
        if index != 0 and vocab.symbols[index] != " ":
            end = t
        previous = index
    if chars:
        words.append({"word": "".join(chars), "start": start * frame_seconds, "end": (end + 1) * frame_seconds})
    return words


@dataclass
class _Beam:
    p_b: float = NEG_INF
    """ln P(prefix, path ends in blank)"""
    p_nb: float = NEG_INF
    """ln P(prefix, path ends in its last character)"""
    lm: float = 0.0
    """alpha ln p_lm + beta |words| of the completed words of the prefix"""
    words: tuple[str, ...] = ()
    """completed words (the LM history)"""

    def total(self) -> float:
        return float(np.logaddexp(self.p_b, self.p_nb))


class BeamSearchDecoder:
    """CTC prefix beam search over characters with an optional word-level n-gram LM."""

    def __init__(self, vocab: CharVocab, lm: NGramLM | None = None, beam_width: int = 100, alpha: float = 0.5,
                 beta: float = 1.0, cutoff_top_n: int = 40, cutoff_prob: float = 1.0) -> None:
        self.vocab, self.lm = vocab, lm
        self.beam_width, self.alpha, self.beta = beam_width, alpha, beta
        self.cutoff_top_n, self.cutoff_prob = cutoff_top_n, cutoff_prob
        self.space = vocab.symbols.index(" ") if " " in vocab.symbols else -1

    @classmethod
    def from_config(cls, cfg: DecoderConfig, vocab: CharVocab) -> BeamSearchDecoder:
        lm = NGramLM.load(cfg.lm_path) if cfg.lm_path else None
        return cls(vocab, lm, cfg.beam_width, cfg.alpha, cfg.beta, cfg.cutoff_top_n, cfg.cutoff_prob)

    def _word_score(self, word: str, history: tuple[str, ...]) -> float:
        if self.lm is None:
            return 0.0
        return self.alpha * self.lm.score(word, ("<s>", *history)) + self.beta

    def _candidates(self, frame: np.ndarray) -> list[int]:
        """Non-blank characters worth expanding at this frame (DS2 §7.3 pruning)."""
        order = np.argsort(-frame)[: self.cutoff_top_n]
        keep, mass = [], 0.0
        for index in order.tolist():
            if index != 0:
                keep.append(index)
            mass += float(np.exp(frame[index]))
            if mass >= self.cutoff_prob:
                break
        return keep

    def _extend(self, key: str, beam: _Beam, c: int, logp: float, new: dict[str, _Beam]) -> None:
        char = self.vocab.symbols[c]
        if key and key[-1] == char:  # repeat: same prefix unless a blank separated the two
            same = new.setdefault(key, _Beam(lm=beam.lm, words=beam.words))
            same.p_nb = float(np.logaddexp(same.p_nb, beam.p_nb + logp))
            from_prev = beam.p_b + logp
        else:
            from_prev = beam.total() + logp
        child = new.get(key + char)
        if child is None:
            lm, words = beam.lm, beam.words
            if c == self.space and key and key[-1] != " ":  # a word was just completed
                word = key.rsplit(" ", 1)[-1].lower()  # LM words are lower case (NGramLM.load)
                lm, words = lm + self._word_score(word, words), (*words, word)
            child = new[key + char] = _Beam(lm=lm, words=words)
        child.p_nb = float(np.logaddexp(child.p_nb, from_prev))

    def _final_score(self, key: str, beam: _Beam) -> float:
        score = beam.total() + beam.lm
        if self.lm is None:
            return score
        last = key.rsplit(" ", 1)[-1].lower()
        words = beam.words
        if last:
            score += self._word_score(last, words)
            words = (*words, last)
        return score + self.alpha * self.lm.score("</s>", ("<s>", *words))

    def decode(self, log_probs: np.ndarray) -> str:
        """Best transcript of one utterance's [T, C] natural-log posteriors."""
        beams: dict[str, _Beam] = {"": _Beam(p_b=0.0)}
        for frame in np.asarray(log_probs, dtype=np.float64):
            new: dict[str, _Beam] = {}
            candidates = self._candidates(frame)
            for key, beam in beams.items():
                stay = new.setdefault(key, _Beam(lm=beam.lm, words=beam.words))
                stay.p_b = float(np.logaddexp(stay.p_b, beam.total() + frame[0]))
                for c in candidates:
                    self._extend(key, beam, c, float(frame[c]), new)
            ranked = sorted(new.items(), key=lambda kv: kv[1].total() + kv[1].lm, reverse=True)
            beams = dict(ranked[: self.beam_width])
        best = max(beams.items(), key=lambda kv: self._final_score(*kv))
        return tidy(best[0])
