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

import numpy as np

from deepspeech.decode import BeamSearchDecoder, _Beam
from deepspeech.ngram import NGramLM
from repro.text.ctc import CharVocab


class CharLMBeamSearchDecoder(BeamSearchDecoder):
    """Prefix beam search over characters, each new character scored by a character n-gram LM."""

    def __init__(self, vocab: CharVocab, lm: NGramLM | None = None, beam_width: int = 100, alpha: float = 0.5,
                 beta: float = 1.0, cutoff_top_n: int = 40, cutoff_prob: float = 1.0) -> None:
        super().__init__(vocab, lm, beam_width, alpha, beta, cutoff_top_n, cutoff_prob)
        self.context = max(1, lm.order - 1) if lm is not None else 1

    def _history(self, key: str) -> tuple[str, ...]:
        """The LM context of a prefix: <s> and its last order-1 characters."""
        return ("<s>", *key[-self.context:]) if key else ("<s>",)

    def _char_score(self, char: str, key: str) -> float:
        if self.lm is None:
            return 0.0
        return self.alpha * self.lm.score(char, self._history(key)) + self.beta

    def _extend(self, key: str, beam: _Beam, c: int, logp: float, new: dict[str, _Beam]) -> None:
        char = self.vocab.symbols[c]
        if key and key[-1] == char:  # repeat: same prefix unless a blank separated the two
            same = new.setdefault(key, _Beam(lm=beam.lm))
            same.p_nb = float(np.logaddexp(same.p_nb, beam.p_nb + logp))
            from_prev = beam.p_b + logp
        else:
            from_prev = beam.total() + logp
        child = new.get(key + char)
        if child is None:
            child = new[key + char] = _Beam(lm=beam.lm + self._char_score(char, key))
        child.p_nb = float(np.logaddexp(child.p_nb, from_prev))

    def _final_score(self, key: str, beam: _Beam) -> float:
        score = beam.total() + beam.lm
        if self.lm is None:
            return score
        return score + self.alpha * self.lm.score("</s>", self._history(key))

    def decode(self, log_probs: np.ndarray) -> str:
        """Best transcript (no spaces) of one utterance's [T, C] natural-log posteriors."""
        return super().decode(log_probs).replace(" ", "")
