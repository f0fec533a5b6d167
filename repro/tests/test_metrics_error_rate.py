"""WER / CER: hand-counted cases, parity with jiwer on tricky and random inputs, and input errors."""

import random

import jiwer
import pytest

from ninerepro.metrics import EditStats, cer, edit_stats, split_words, wer

# (references, hypotheses): each is a case where a naive implementation tends to disagree with jiwer.
TRICKY_CASES = [
    (["the cat sat"], ["the cat sat"]),
    (["the cat sat"], [""]),  # empty hypothesis: all deletions
    (["a b"], ["a x b y c"]),  # insertions only
    (["the the the"], ["the the"]),  # repeated words
    (["a b"], ["b c"]),  # tie between 2 substitutions and 1 deletion + 1 insertion
    (["crème brûlée", "naïve café"], ["creme brûlée", "naïve  café"]),  # unicode
    (["  leading and   trailing  "], ["leading and trailing"]),  # multiple and outer spaces
    (["a\tb c"], ["a b c"]),  # a single tab does not split words in jiwer
    (["a\t\tb c"], ["a b c"]),  # two whitespace characters do
    (["", "one two"], ["hello", "one two"]),  # an empty reference inside a corpus
    (["日本語 の テキスト"], ["日本語 テキスト です"]),
    (["a b c d e f"], ["f e d c b a"]),
]


@pytest.mark.parametrize(("refs", "hyps"), TRICKY_CASES)
def test_wer_and_cer_equal_jiwer_on_tricky_cases(refs, hyps):
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), abs=1e-12)
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), abs=1e-12)


@pytest.mark.parametrize(("refs", "hyps"), TRICKY_CASES)
def test_edit_breakdown_equals_jiwer_on_tricky_cases(refs, hyps):
    for unit, process in (("word", jiwer.process_words), ("char", jiwer.process_characters)):
        ours, theirs = edit_stats(refs, hyps, unit=unit), process(refs, hyps)
        assert (ours.substitutions, ours.deletions, ours.insertions, ours.hits) == (
            theirs.substitutions,
            theirs.deletions,
            theirs.insertions,
            theirs.hits,
        ), unit


def _random_sentence(rng: random.Random) -> str:
    words = ["a", "b", "the", "cat", "Cat", "sat", "é", "on", "mat", "ß"]
    spaces = [" ", " ", " ", "  ", " \t "]
    n = rng.randrange(0, 9)
    text = "".join(rng.choice(words) + rng.choice(spaces) for _ in range(n))
    return rng.choice(["", " "]) + text


def test_wer_cer_and_breakdown_equal_jiwer_on_200_random_corpora():
    rng = random.Random(1234)
    for _ in range(200):
        size = rng.randrange(1, 5)
        refs = [_random_sentence(rng) for _ in range(size)]
        hyps = [_random_sentence(rng) for _ in range(size)]
        expected = jiwer.process_words(refs, hyps)
        ours = edit_stats(refs, hyps)
        assert (ours.substitutions, ours.deletions, ours.insertions) == (
            expected.substitutions,
            expected.deletions,
            expected.insertions,
        ), (refs, hyps)
        assert wer(refs, hyps) == pytest.approx(expected.wer, abs=1e-12)
        assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), abs=1e-12)


def test_wer_is_corpus_level_not_a_mean_of_utterance_rates():
    # 1 error in 1 word and 0 errors in 3 words: corpus WER 1/4, while the mean of rates would be 1/2.
    assert wer(["a", "b c d"], ["x", "b c d"]) == pytest.approx(0.25)


def test_hand_counted_breakdown_of_a_small_example():
    stats = edit_stats(["the quick brown fox"], ["the quack brown fox jumps"])
    assert stats == EditStats(substitutions=1, deletions=0, insertions=1, hits=3)
    assert stats.reference_length == 4
    assert stats.error_rate == pytest.approx(0.5)


def test_empty_references_give_the_insertion_count_like_jiwer():
    assert wer([""], [""]) == 0.0 == jiwer.wer([""], [""])
    assert wer([""], ["two words"]) == 2.0 == jiwer.wer([""], ["two words"])
    assert cer([], []) == 0.0


def test_a_single_string_is_one_utterance():
    assert wer("a b c", "a b") == pytest.approx(1 / 3)


def test_split_words_keeps_a_single_tab_inside_a_word_as_jiwer_does():
    assert split_words("  a\tb   c ") == ["a\tb", "c"]


def test_length_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        wer(["a", "b"], ["a"])


def test_non_string_items_are_named_by_index():
    with pytest.raises(TypeError, match=r"hypotheses\[1\] is bytes"):
        cer(["a", "b"], ["a", b"b"])


def test_unknown_unit_is_rejected():
    with pytest.raises(ValueError, match="unit must be"):
        edit_stats(["a"], ["a"], unit="phone")
