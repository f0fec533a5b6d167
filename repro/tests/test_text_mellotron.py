"""Mellotron's own text path: golden ids from the official code (NVIDIA/mellotron d5362cc,
``text_to_sequence(text, ["english_cleaners"], CMUDict("data/cmu_dictionary"), 1.0)``)."""

import random

import pytest

from ninerepro.text import CMUDict, load_cmudict, sequence_to_text, text_to_sequence
from ninerepro.text.mellotron_compat import mellotron_text_to_sequence

DR_SMITH = "Dr. Smith paid $3.50 on 1st May 1999."
DR_SMITH_IDS = [127, 167, 123, 180, 4, 8, 168, 155, 146, 171, 8, 166, 139, 127, 8, 28, 42, 4, 44, 39, 8, 103, 156, 8,
                40, 168, 170, 167, 150, 170, 8, 155, 139, 8, 40, 48, 48, 48, 4]  # fmt: skip
LETS_GO = "Let's go, don't stop, we'll see, o'clock."
LETS_GO_IDS = [154, 131, 170, 168, 8, 142, 160, 3, 8, 127, 160, 156, 170, 8, 168, 170, 103, 166, 3, 8, 181, 150, 154,
               8, 168, 150, 3, 8, 89, 1, 77, 86, 89, 77, 85, 4]  # fmt: skip
DR_SMITH_NO_DICT_IDS = text_to_sequence(DR_SMITH, ["english_cleaners"], "mellotron")


@pytest.fixture(scope="module")
def full_cmudict():
    return load_cmudict(keep_ambiguous=True)


@pytest.mark.parametrize(("text", "expected"), [(DR_SMITH, DR_SMITH_IDS), (LETS_GO, LETS_GO_IDS)])
def test_ids_equal_the_official_mellotron_ids(full_cmudict, text, expected):
    assert mellotron_text_to_sequence(text) == expected


def test_raw_words_are_looked_up_so_digits_and_abbreviations_stay_as_written(full_cmudict):
    decoded = sequence_to_text(DR_SMITH_IDS, "mellotron")
    assert decoded.startswith("{D R AY1 V}. {S M IH1 TH}")  # "Dr" is read as "drive" by CMUdict
    assert "$3.50" in decoded and "1999." in decoded


def test_without_a_dictionary_it_is_plain_cleaning():
    assert mellotron_text_to_sequence(DR_SMITH, use_dictionary=False) == DR_SMITH_NO_DICT_IDS


def test_spans_are_kept_and_unconverted_words_are_kept_as_written():
    d = CMUDict({"CAT": ["K AE1 T"]})
    ids = mellotron_text_to_sequence("cat {D AO1 G} cat", dictionary=d, p_arpabet=0.5, rng=random.Random(1))
    text = sequence_to_text(ids, "mellotron")
    assert "{D AO1 G}" in text
    assert text.count("cat") + text.count("{K AE1 T}") == 2


def test_fractional_p_arpabet_needs_an_rng():
    with pytest.raises(ValueError, match="needs rng"):
        mellotron_text_to_sequence("cat", p_arpabet=0.5)
