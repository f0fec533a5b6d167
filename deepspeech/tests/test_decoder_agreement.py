"""Why flashlight-text and the reference beam search can disagree, and the pruning they now share."""

from __future__ import annotations

import numpy as np
import pytest
from lm_testkit import SENTENCES, noisy_posteriors, write_lm

from deepspeech.decode import BeamSearchDecoder
from deepspeech.lm_files import arpa_unigrams
from deepspeech.ngram import NGramLM
from deepspeech.objective import ctc_log_likelihood, explain, objective
from ninerepro.text.ctc import CharVocab

pytest.importorskip("flashlight.lib.text.decoder", reason="flashlight-text is not installed")
from deepspeech.flashlight_decode import NEVER, FlashlightDecoder, prune_characters

EN = CharVocab.english()


def test_flashlight_expands_exactly_the_reference_candidates_per_frame():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, len(EN))) * rng.uniform(0.5, 6.0, size=(200, 1))
    lp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ref = BeamSearchDecoder(EN, None, cutoff_top_n=12, cutoff_prob=0.9)
    pruned = prune_characters(lp.astype(np.float32), 12, 0.9)
    for t in range(len(lp)):
        kept = {c for c in range(1, len(EN)) if pruned[t, c] > NEVER / 2}
        assert kept == set(ref._candidates(lp[t])), t
        assert pruned[t, 0] == np.float32(lp[t, 0])


def test_the_exact_ctc_likelihood_sums_all_alignments():
    # two frames, P(a) = 0.4, P(blank) = 0.6: "a" has alignments a_, _a, aa -> 0.24 + 0.24 + 0.16
    lp = np.log(np.full((2, len(EN)), 1e-9))
    lp[:, 0], lp[:, EN.symbols.index("a")] = np.log(0.6), np.log(0.4)
    assert np.exp(ctc_log_likelihood(lp, "a", EN)) == pytest.approx(0.64, rel=1e-5)
    assert np.exp(ctc_log_likelihood(lp, "", EN)) == pytest.approx(0.36, rel=1e-5)


def test_a_word_outside_the_lexicon_is_the_open_vocabulary_difference(tmp_path):
    arpa = write_lm(tmp_path)
    lm = NGramLM.load(arpa)
    lexicon = {w.lower() for w, _ in arpa_unigrams(arpa)}
    lp = noisy_posteriors("the zebra sat", EN, seed=3, confusion=0.0)  # clean acoustics of an unseen word
    ref = BeamSearchDecoder(EN, lm, 16, alpha=0.5, beta=1.0).decode(lp)
    fl = FlashlightDecoder(EN, arpa, 16, alpha=0.5, beta=1.0).decode(lp)
    assert ref == "the zebra sat" and "zebra" not in fl.split()
    why = explain(lp, fl, ref, EN, lm, 0.5, 1.0, lexicon)
    assert why.reason == "oov" and why.q_reference > why.q_flashlight


def test_every_difference_on_the_fixed_posteriorgrams_is_explained_and_the_winner_scores_higher(tmp_path):
    """Beam 4 on the 12 fixed noisy posteriorgrams plus harder ones (more confusion): wherever the two
    answers differ, the explanation names which search lost the better-scoring text, and that text really
    scores higher under the exact objective."""
    arpa = write_lm(tmp_path)
    lm = NGramLM.load(arpa)
    lexicon = {w.lower() for w, _ in arpa_unigrams(arpa)}
    posts = [noisy_posteriors(s, EN, seed + 10 * i, confusion=c)
             for c in (0.45, 0.7) for i, (s, seed) in enumerate((s, seed) for seed in range(2) for s in SENTENCES)]
    fl = FlashlightDecoder(EN, arpa, 4, alpha=1.0, beta=1.0, cutoff_prob=0.99)
    ref = BeamSearchDecoder(EN, lm, 4, alpha=1.0, beta=1.0, cutoff_prob=0.99)
    reasons = []
    for lp in posts:
        a, b = fl.decode(lp), ref.decode(lp)
        why = explain(lp, a, b, EN, lm, 1.0, 1.0, lexicon)
        reasons.append(why.reason)
        q_fl, q_ref = objective(lp, a, EN, lm, 1.0, 1.0), objective(lp, b, EN, lm, 1.0, 1.0)
        if why.reason == "reference_search":
            assert q_fl > q_ref
        elif why.reason == "flashlight_search":
            assert q_ref > q_fl
        else:
            assert why.reason in ("same", "tie", "oov")
    assert reasons.count("same") >= len(posts) // 2
