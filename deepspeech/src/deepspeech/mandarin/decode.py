"""CTC prefix beam search with a *character* n-gram LM, for Mandarin (DS2 §3.8).

The objective is the English one, Q(y) = ln p_ctc(y|x) + alpha ln p_lm(y) + beta |y|, except that Mandarin has
no word separator: the LM is a character n-gram and "words" are characters, so the LM term and the bonus beta
are added each time a prefix grows by one character (DS2 §3.8: "for Mandarin ... the number of characters").
Everything else (the two CTC probabilities per prefix, exact merging of repeats, the DS2 §7.3 per-frame
pruning) is inherited from the reference decoder ``deepspeech.decode.BeamSearchDecoder``.

Why not flashlight-text here: its lexicon decoder ends a word on a separator token, and its lexicon-free
decoder has no per-token bonus, so beta (which DS2 tunes with alpha) could not be expressed.
"""

from __future__ import annotations

import math

import numpy as np

from deepspeech.decode import NEG_INF, BeamSearchDecoder, _Beam
from deepspeech.ngram import NGramLM
from ninerepro.text.ctc import CharVocab


def _logaddexp(a: float, b: float) -> float:
    """ln(e^a + e^b) for Python floats (np.logaddexp on scalars costs ~1 us, most of a decode)."""
    if a < b:
        a, b = b, a
    return a if b == NEG_INF else a + math.log1p(math.exp(b - a))


class CharLMBeamSearchDecoder(BeamSearchDecoder):
    """Prefix beam search over characters, each new character scored by a character n-gram LM.

    Same algorithm and pruning as the parent, written over plain floats with the LM term of each
    (context, character) cached, because a Mandarin frame can offer dozens of plausible characters.
    """

    def __init__(self, vocab: CharVocab, lm: NGramLM | None = None, beam_width: int = 100, alpha: float = 0.5,
                 beta: float = 1.0, cutoff_top_n: int = 40, cutoff_prob: float = 1.0) -> None:
        super().__init__(vocab, lm, beam_width, alpha, beta, cutoff_top_n, cutoff_prob)
        self.context = max(1, lm.order - 1) if lm is not None else 1
        self._cache: dict[tuple[str, str], float] = {}

    def _history(self, key: str) -> tuple[str, ...]:
        """The LM context of a prefix: <s> and its last order-1 characters."""
        return ("<s>", *key[-self.context:]) if key else ("<s>",)

    def _char_score(self, char: str, key: str) -> float:
        """alpha ln P_lm(char | prefix) + beta: the LM term a prefix gains with each new character."""
        if self.lm is None:
            return 0.0
        ctx = key[-self.context:]
        cached = self._cache.get((ctx, char))
        if cached is None:
            cached = self._cache[(ctx, char)] = self.alpha * self.lm.score(char, self._history(key)) + self.beta
        return cached

    def _final_score(self, key: str, beam: _Beam) -> float:
        score = beam.total() + beam.lm
        if self.lm is None:
            return score
        return score + self.alpha * self.lm.score("</s>", self._history(key))

    def decode(self, log_probs: np.ndarray) -> str:
        """Best transcript (no spaces) of one utterance's [T, C] natural-log posteriors."""
        symbols = self.vocab.symbols
        beams: dict[str, _Beam] = {"": _Beam(p_b=0.0)}
        for frame in np.asarray(log_probs, dtype=np.float64):
            new: dict[str, _Beam] = {}
            candidates = [(c, symbols[c], float(frame[c])) for c in self._candidates(frame)]
            blank = float(frame[0])
            for key, beam in beams.items():
                total = _logaddexp(beam.p_b, beam.p_nb)
                stay = new.get(key)
                if stay is None:
                    stay = new[key] = _Beam(lm=beam.lm)
                stay.p_b = _logaddexp(stay.p_b, total + blank)
                last = key[-1] if key else ""
                for _, char, logp in candidates:
                    if char == last:  # repeat: same prefix unless a blank separated the two
                        stay.p_nb = _logaddexp(stay.p_nb, beam.p_nb + logp)
                        from_prev = beam.p_b + logp
                    else:
                        from_prev = total + logp
                    child = new.get(key + char)
                    if child is None:
                        child = new[key + char] = _Beam(lm=beam.lm + self._char_score(char, key))
                    child.p_nb = _logaddexp(child.p_nb, from_prev)
            ranked = sorted(new.items(), key=lambda kv: _logaddexp(kv[1].p_b, kv[1].p_nb) + kv[1].lm, reverse=True)
            beams = dict(ranked[: self.beam_width])
        best = max(beams.items(), key=lambda kv: self._final_score(*kv))
        return best[0]
