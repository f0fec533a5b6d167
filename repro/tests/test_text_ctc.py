"""CTC character vocabularies: blank at 0, encode/decode, greedy collapse, clear errors."""

import numpy as np
import pytest

from ninerepro.text import CharVocab, ctc_collapse, normalize_for_ctc


def test_english_vocab_is_blank_space_apostrophe_and_26_letters():
    vocab = CharVocab.english()
    assert len(vocab) == 29
    assert vocab.blank == 0
    assert vocab.symbols[:4] == ("<blank>", " ", "'", "a")
    assert vocab.symbols[-1] == "z"


def test_deepspeech_pytorch_layout_matches_its_label_order():
    vocab = CharVocab.deepspeech_pytorch()
    assert len(vocab) == 29
    assert "".join(vocab.symbols[1:]) == "'ABCDEFGHIJKLMNOPQRSTUVWXYZ "
    assert vocab.encode(vocab.normalize("it's ok")) == [10, 21, 1, 20, 28, 16, 12]


def test_encode_then_decode_returns_the_text():
    vocab = CharVocab.english()
    ids = vocab.encode("don't stop")
    assert ids == [6, 17, 16, 2, 22, 1, 21, 22, 17, 18]
    assert 0 not in ids
    assert vocab.decode(ids) == "don't stop"


def test_encoding_an_unsupported_character_names_it_and_its_position():
    vocab = CharVocab.english()
    with pytest.raises(ValueError, match=r"character '!' at position 5 of 'hello!' is not in the CTC vocabulary"):
        vocab.encode("hello!")
    with pytest.raises(ValueError, match=r"character 'H'"):
        vocab.encode("Hello")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("  Well-known   and/or  ", "well known and or"),
        ("Café’s naïve", "cafe's naive"),
        ("Room 5.", "room"),
    ],
)
def test_normalize_for_ctc_keeps_only_letters_apostrophes_and_single_spaces(raw, expected):
    assert normalize_for_ctc(raw) == expected
    CharVocab.english().encode(normalize_for_ctc(raw))  # always encodable


def test_ctc_collapse_merges_repeats_before_dropping_blanks():
    # "a a _ a b b _ _" -> "a a b": the blank separates the two a's, repeats merge.
    assert ctc_collapse([3, 3, 0, 3, 4, 4, 0, 0]) == [3, 3, 4]
    assert ctc_collapse([0, 0, 0]) == []
    assert ctc_collapse(np.array([5, 5, 5])) == [5]
    assert ctc_collapse([2, 2, 7, 2], blank=7) == [2, 2]


def test_greedy_decoding_of_a_frame_path():
    vocab = CharVocab.english()
    h, e, l, o = (vocab.encode(c)[0] for c in "helo")
    path = [0, h, h, e, 0, l, l, 0, l, o, o, 0]
    assert vocab.decode_greedy(path) == "hello"


def test_decode_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"class id 29 is outside this vocabulary \(0\.\.28\)"):
        CharVocab.english().decode([1, 29])


def test_vocabulary_characters_must_be_distinct_single_characters():
    with pytest.raises(ValueError, match="distinct single characters"):
        CharVocab(["a", "a"])
    with pytest.raises(ValueError, match="distinct single characters"):
        CharVocab(["ab"])
