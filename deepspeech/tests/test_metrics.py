"""Our scoring (explicit normalisation + ninerepro.metrics) equals jiwer on tricky cases."""

from __future__ import annotations

import jiwer
import pytest

from deepspeech.evaluate import normalize_for_scoring, score

CASES = [
    (["hello world"], ["hello world"]),
    (["hello world"], [""]),                       # empty hypothesis: all deletions
    (["a b"], ["x a y b z"]),                      # insertions only
    (["Hello, World!"], ["hello world"]),           # punctuation and case differ only
    (["it's a well-known fact"], ["its a well known fact"]),
    (["the cat sat", "on the mat"], ["the cat sat sat", "on mat"]),
    (["  spaced   out  "], ["spaced out"]),
]


def test_normalisation_folds_case_and_drops_punctuation_but_keeps_apostrophes():
    assert normalize_for_scoring("Hello, World! It's  well-known.") == "hello world it's well known"


@pytest.mark.parametrize("refs, hyps", CASES)
def test_wer_and_cer_equal_jiwer_after_the_same_normalisation(refs, hyps):
    n_refs = [normalize_for_scoring(r) for r in refs]
    n_hyps = [normalize_for_scoring(h) for h in hyps]
    ours = score(refs, hyps)
    assert ours["wer"] == pytest.approx(jiwer.wer(n_refs, n_hyps))
    assert ours["cer"] == pytest.approx(jiwer.cer(n_refs, n_hyps))


def test_punctuation_and_case_alone_are_not_errors():
    assert score(["Hello, World!"], ["hello world"])["wer"] == 0.0
