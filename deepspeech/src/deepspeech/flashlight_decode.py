"""CTC beam search with KenLM through flashlight-text (the decoder torchaudio wraps): the fast default.

Same objective as our reference ``decode.BeamSearchDecoder``: Q(y) = ln p_ctc(y|x) + alpha ln p_lm(y) +
beta |words(y)|, CTC paths of one labelling summed (``log_add``), at most ``cutoff_top_n`` characters
expanded per frame. Two modes:

- lexicon (with an LM): the words are the LM's unigrams (or a ``--lexicon`` word list), spelt in the
  acoustic vocabulary's case and looked up in the LM in the LM's own case, so an uppercase ARPA and a
  lowercase vocabulary meet without any conversion of the file. Unlike the reference decoder it cannot
  emit a word outside that list (the reference scores such words as ``<unk>``).
- lexicon-free (no LM): prefix beam search over characters.

Per frame both decoders expand the same characters: flashlight's own option (``beam_size_token``, which
torchaudio leaves at the whole vocabulary) is set to ``cutoff_top_n`` (deepspeech.pytorch's default 40, as
ctcdecode's), and the cumulative-probability cut (``cutoff_prob``, DS2 §7.3), which flashlight lacks, is applied to the
emissions before decoding (characters past it get an impossible score; blank is always kept), exactly as
the reference chooses its candidates. Remaining differences on real posteriors are explained in
objective.py.

Score pruning (``beam_threshold``, flashlight only): per frame flashlight drops every candidate scoring more
than this below the frame's best before keeping the ``beam_width`` best. 0 (our default) turns it off, so the
beam is the same exact top-``beam_width`` search as the reference's; torchaudio's ``ctc_decoder`` defaults to
50, deepspeech.pytorch's ctcdecode has no such cut. On confident posteriors most of a wide beam lies far below
the best hypothesis, so a threshold is where beam 500's speed comes from; README "Decoding speed" measures
what it costs in accuracy.

flashlight's KenLM returns log10 probabilities; ``alpha`` is given in natural-log units (as ``decode.py``
uses), so the LM weight passed on is alpha * ln 10. A word is scored on the space that ends it (as in our
decoder); one extra frame of certain space is appended so that the last word is always completed, which
adds ln 1 = 0 to every path and so changes no score.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deepspeech.decode import tidy
from deepspeech.lm_files import SPECIAL, arpa_unigrams, loadable_lm, read_lexicon_words
from ninerepro.text.ctc import CharVocab

LN10 = math.log(10.0)
NEVER = -1e30  # log-probability of an impossible token in the appended end frame
NO_PRUNING = 1e6  # flashlight beam_threshold for "off": far above any score gap, yet it still rejects NEVER


def available() -> bool:
    """True when the flashlight-text wheel is importable."""
    try:
        import flashlight.lib.text.decoder  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """KenLM prints its loading progress on C stdout; keep stdout clean for --json output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def prune_characters(log_probs: np.ndarray, cutoff_top_n: int, cutoff_prob: float) -> np.ndarray:
    """[T, C] log-probabilities with every non-blank character outside the frame's candidates set to an
    impossible score; candidates as the reference decoder picks them: the most likely first, at most
    ``cutoff_top_n``, while the mass before them (blank included) is below ``cutoff_prob``."""
    order = np.argsort(-log_probs, axis=1, kind="stable")[:, :cutoff_top_n]
    mass = np.cumsum(np.exp(np.take_along_axis(log_probs, order, axis=1).astype(np.float64)), axis=1)
    before = np.concatenate([np.zeros((len(mass), 1)), mass[:, :-1]], axis=1)
    keep = np.zeros(log_probs.shape, dtype=bool)
    np.put_along_axis(keep, order, before < cutoff_prob, axis=1)
    keep[:, 0] = True  # blank: always a way to stay
    return np.where(keep, log_probs, np.float32(NEVER)).astype(np.float32)


class FlashlightDecoder:
    """flashlight-text CTC beam search; ``decode(log_probs) -> text`` like the reference decoder."""

    def __init__(self, vocab: CharVocab, lm_path: str | os.PathLike | None = None, beam_width: int = 100,
                 alpha: float = 0.5, beta: float = 1.0, cutoff_top_n: int = 40, cutoff_prob: float = 1.0,
                 lexicon_path: str | os.PathLike | None = None, beam_threshold: float = 0.0) -> None:
        from flashlight.lib.text import decoder as fl

        if beam_threshold < 0:
            raise ValueError(f"beam_threshold must be >= 0 (0 = no score pruning), got {beam_threshold}")
        self.beam_threshold = beam_threshold
        beam_threshold = beam_threshold or NO_PRUNING
        if " " not in vocab.symbols:
            raise ValueError("the flashlight decoder needs a space in the vocabulary (the word separator)")
        self.vocab, self.space = vocab, vocab.symbols.index(" ")
        self.beam_width, self.alpha, self.beta, self.cutoff_top_n = beam_width, alpha, beta, cutoff_top_n
        self.cutoff_prob = cutoff_prob
        self.lm_path = lm_path
        criterion = fl.CriterionType.CTC
        if lm_path is None:
            opts = fl.LexiconFreeDecoderOptions(beam_width, min(cutoff_top_n, len(vocab)), beam_threshold, 0.0, 0.0,
                                                True, criterion)
            self._decoder = fl.LexiconFreeDecoder(opts, fl.ZeroLM(), self.space, 0, [])
            self.spellings: list[str] = []
            return
        self._build_lexicon_decoder(fl, Path(lm_path), lexicon_path, beam_threshold, criterion)

    def _build_lexicon_decoder(self, fl, lm_path: Path, lexicon_path, beam_threshold: float, criterion) -> None:
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import create_word_dict

        words = read_lexicon_words(lexicon_path) if lexicon_path else [w for w, _ in arpa_unigrams(lm_path)]
        spellable = {}
        for word in words:
            if word.lower() in SPECIAL:
                continue
            spelling = self.vocab.normalize(word)
            if spelling and spelling == (word.upper() if self.vocab.upper else word.lower()):
                spellable[word] = spelling
        if not spellable:
            raise ValueError(f"{lm_path}: none of its words can be spelt in the vocabulary "
                             f"{''.join(self.vocab.symbols[1:])!r}")
        # the dictionary needs <unk> (its default index); it and <s>, </s> stay out of the trie
        entries = {**{w: [[w]] for w in SPECIAL}, **{w: [list(s)] for w, s in spellable.items()}}
        self.word_dict = create_word_dict(entries)
        with _stdout_to_stderr():
            self._lm = KenLM(str(loadable_lm(lm_path)), self.word_dict)
        start = self._lm.start(False)
        trie = fl.Trie(len(self.vocab), self.space)
        self.spellings = [""] * self.word_dict.index_size()
        for word, spelling in spellable.items():
            index = self.word_dict.get_index(word)
            self.spellings[index] = spelling
            _, score = self._lm.score(start, index)
            # the word ends on the space after it, as in torchaudio's lexicons ("c a t |"): ending it on its last
            # letter would forbid the CTC repeat of that letter ("tt") once the word is complete
            trie.insert([self.vocab.symbols.index(c) for c in spelling] + [self.space], index, score)
        trie.smear(fl.SmearingMode.MAX)
        unk = self.word_dict.get_index("<unk>")
        opts = fl.LexiconDecoderOptions(self.beam_width, min(self.cutoff_top_n, len(self.vocab)), beam_threshold,
                                        self.alpha * LN10, self.beta, -math.inf, 0.0, True, criterion)
        self._decoder = fl.LexiconDecoder(opts, trie, self._lm, self.space, 0, unk, [], False)

    def _emissions(self, log_probs: np.ndarray) -> np.ndarray:
        frames = np.asarray(log_probs, dtype=np.float32)
        if self.cutoff_prob < 1.0:
            frames = prune_characters(frames, self.cutoff_top_n, self.cutoff_prob)
        end = np.full((1, frames.shape[1]), NEVER, dtype=np.float32)
        end[0, self.space] = 0.0
        return np.ascontiguousarray(np.concatenate([frames, end]))

    def decode(self, log_probs: np.ndarray) -> str:
        """Best transcript of one utterance's [T, C] natural-log posteriors."""
        if len(log_probs) == 0:
            return ""
        emissions = self._emissions(log_probs)
        T, N = emissions.shape
        best = self._decoder.decode(emissions.ctypes.data, T, N)[0]
        if self.spellings:
            return tidy(" ".join(self.spellings[w] for w in best.words if w >= 0))
        return tidy(self.vocab.decode_greedy(best.tokens))
