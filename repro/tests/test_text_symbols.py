"""The symbol tables must equal the official lists id for id, or official embeddings would be scrambled."""

import hashlib

import pytest

from ninerepro.text import ARPABET, SYMBOL_SET_NAMES, symbol_table

# sha256 over "\n".join(symbols), computed from the official lists (NVIDIA/tacotron2 185cd24 and
# NVIDIA/flowtron d149bc4 text/symbols.py, built with their text/cmudict.py valid_symbols).
OFFICIAL_SHA256 = {
    "tacotron2": "ec5c1790dbfe42e1ef0cea372ab3eb614cc4df326133b0e3f4ccd11103f0545b",
    "flowtron": "3182839bb8aa8463a98751eec17e361ab97090394e1781a6f57f73407e4e6034",
    "mellotron": "3182839bb8aa8463a98751eec17e361ab97090394e1781a6f57f73407e4e6034",
}


def _digest(symbols: list[str]) -> str:
    return hashlib.sha256("\n".join(symbols).encode("utf-8")).hexdigest()


@pytest.mark.parametrize(("name", "count"), [("tacotron2", 148), ("flowtron", 185), ("mellotron", 185)])
def test_each_table_has_the_official_number_of_symbols(name, count):
    symbols = symbol_table(name)
    assert len(symbols) == count
    assert len(set(symbols)) == count


@pytest.mark.parametrize("name", sorted(OFFICIAL_SHA256))
def test_each_table_matches_the_official_list_checksum(name):
    assert _digest(symbol_table(name)) == OFFICIAL_SHA256[name]


def test_tacotron2_table_starts_with_pad_hyphen_punctuation_and_ends_with_phones():
    symbols = symbol_table("tacotron2")
    assert symbols[:12] == ["_", "-", "!", "'", "(", ")", ",", ".", ":", ";", "?", " "]
    assert symbols[12:15] == ["A", "B", "C"]
    assert symbols[61:66] == ["x", "y", "z", "@AA", "@AA0"]
    assert symbols[-5:] == ["@V", "@W", "@Y", "@Z", "@ZH"]


def test_flowtron_table_order_of_its_character_groups():
    symbols = symbol_table("flowtron")
    assert "".join(symbols[:9]) == "!'\",.:;? "
    assert "".join(symbols[9:20]) == "#%&*+-/[]()"
    assert "".join(symbols[20:29]) == "_@©°½—₩€$"
    assert "".join(symbols[29:39]) == "áçéêëñöøćž"
    assert "".join(symbols[39:49]) == "0123456789"
    assert symbols[49] == "A" and symbols[100] == "z"
    assert symbols[101] == "@AA" and symbols[-1] == "@ZH"


def test_mellotron_table_is_exactly_flowtrons():
    assert symbol_table("mellotron") == symbol_table("flowtron")


def test_arpabet_has_84_symbols_39_phones_and_is_sorted():
    assert len(ARPABET) == 84
    assert list(ARPABET) == sorted(ARPABET)
    assert len({symbol.rstrip("012") for symbol in ARPABET}) == 39
    assert symbol_table("tacotron2")[-84:] == ["@" + s for s in ARPABET]


def test_symbol_table_returns_a_copy_that_callers_cannot_corrupt():
    symbol_table("flowtron").append("oops")
    assert len(symbol_table("flowtron")) == 185


def test_unknown_symbol_set_name_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown symbol set 'tacotron3'.*tacotron2, flowtron, mellotron"):
        symbol_table("tacotron3")
    assert SYMBOL_SET_NAMES == ("tacotron2", "flowtron", "mellotron")
