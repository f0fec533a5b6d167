"""Cleaner table: one row per rule of tts.md §2.

Expected strings were checked against the official code (NVIDIA/tacotron2 185cd24 and NVIDIA/flowtron
d149bc4, text/cleaners.py run on the same inputs); rows marked "divergence" are the documented places
where we keep words the official code loses or glues.
"""

import pytest

from ninerepro.text import CMUDict, clean_text, symbol_table
from ninerepro.text.cleaners import (
    basic_cleaners,
    english_cleaners,
    flowtron_cleaners,
    flowtron_english_cleaners,
    transliteration_cleaners,
)

# A tiny dictionary keeps the acronym rows independent of the CMUdict release (and fast).
TINY_DICT = CMUDict(
    {"NASA": ["N AE1 S AH0"], "PM": ["P IY1 EH1 M"], "AM": ["AE1 M", "EY1 EH1 M"]},
    keep_ambiguous=False,
)

ENGLISH_CASES = [
    # rule, input, expected
    (
        "worked example",
        "Dr. Smith paid $3.50 on 1st May 1999",
        "doctor smith paid three dollars, fifty cents on first may nineteen ninety-nine",
    ),
    ("transliteration to ASCII", "Café naïve", "cafe naive"),
    ("lower case", "HELLO World", "hello world"),
    ("whitespace collapse", "a  b\t\nc", "a b c"),
    (
        "thousands separators",
        "1,234,567 people",
        "one million, two hundred thirty-four thousand, five hundred sixty-seven people",
    ),
    ("pounds (divergence: official gives 'psfive')", "£5 and £1", "five pounds and one pounds"),
    ("dollars and cents", "$3.50", "three dollars, fifty cents"),
    ("singular dollar and cent", "$1.01", "one dollar, one cent"),
    ("dollars only", "$2.00 or $1", "two dollars or one dollar"),
    ("cents only", "$0.75 or $0.01", "seventy-five cents or one cent"),
    ("zero dollars", "$0", "zero dollars"),
    ("malformed amount", "$1.2.3", "one point two.three dollars"),
    ("money with separators", "$1,000.50", "one thousand dollars, fifty cents"),
    ("decimal point", "3.14", "three point fourteen"),
    ("ordinals", "1st 21st 102nd 13th", "first twenty-first one hundred and second thirteenth"),
    ("year in pairs", "1999 2015 2999", "nineteen ninety-nine twenty fifteen twenty-nine ninety-nine"),
    ("year with oh", "1905 1001", "nineteen oh five ten oh one"),
    ("year 2000", "2000", "two thousand"),
    ("years 2001-2009", "2005", "two thousand five"),
    ("year in hundreds", "1900 2100", "nineteen hundred twenty-one hundred"),
    ("outside 1001-2999 is a cardinal", "1000 3000 999", "one thousand three thousand nine hundred ninety-nine"),
    ("cardinal without 'and'", "105 0", "one hundred five zero"),
    (
        "all 18 abbreviations",
        "Mrs. Mr. Dr. St. Co. Jr. Maj. Gen. Drs. Rev. Lt. Hon. Sgt. Capt. Esq. Ltd. Col. Ft.",
        "misess mister doctor saint company junior major general doctors reverend lieutenant honorable "
        "sergeant captain esquire limited colonel fort",
    ),
    ("abbreviation needs its period", "Dr Who", "dr who"),
    ("punctuation kept", "He said: it's 12,000!", "he said: it's twelve thousand!"),
]

FLOWTRON_CASES = [
    (
        "worked example",
        "Dr. Smith paid $3.50 on 1st May 1999",
        "Dr. Smith paid three dollars, fifty cents on first May nineteen ninety nine",
    ),
    ("case, accents and abbreviations kept", "Café Déjà, Mr. Ms.", "Café Déjà, Mr. Ms."),
    ("whitespace collapse", "Hello   world\tagain", "Hello world again"),
    ("hyphen between word characters", "well-known co-worker", "well known co worker"),
    ("free-standing hyphen kept", "a - b", "a - b"),
    ("time with pm", "3:30pm", "three thirty {P IY1 EH1 M}"),
    ("time on the hour, ambiguous AM spelled", "11:00 am", "eleven {EY1} {EH1 M}"),
    ("hour with pm", "7pm 12pm", "seven {P IY1 EH1 M} twelve {P IY1 EH1 M}"),
    ("upper-case PM (divergence: official drops it)", "10:30PM", "ten thirty {P IY1 EH1 M}"),
    ("clock time without am/pm", "14:45", "fourteen forty five"),
    (
        "cardinals without hyphens or commas",
        "123456 21",
        "one hundred twenty three thousand four hundred fifty six twenty one",
    ),
    ("years", "1999 2005 2100", "nineteen ninety nine two thousand five twenty-one hundred"),
    ("decade plural", "1980's", "nineteen eighties"),
    ("other plural (divergence: official drops 's)", "1900's", "nineteen hundreds"),
    ("dollars spelled at once", "$3.50 on", "three dollars, fifty cents on"),
    ("singular units", "$1.01", "one dollar, one cent "),
    ("dollar scale word", "$5 million", "five million dollars "),
    ("scale word in capitals (divergence)", "$5 Million", "five million dollars "),
    ("zero dollars not glued (divergence)", "$0 today", "zero dollars today"),
    ("pounds", "£5", "five pounds"),
    ("decimal point", "3.5", "three point five"),
    ("ordinals", "21st", "twenty-first"),
    ("measurements", "98F 5k 3 d 100 C", "ninety-eight fahrenheit five thousand three d one hundred celsius"),
    ("no. to number", "No. 5", "number five"),
    ("acronym in the dictionary", "NASA", "{N AE1 S AH0}"),
    ("acronym spelled by letters", "FBI", "{EH1 F} {B IY1} {AY1}"),
    ("dotted acronym", "the U.S. army", "the {Y UW1} {EH1 S} army"),
    ("plural acronym", "CDs", "{S IY1} {D IY1 Z}"),
    ("single capital is not an acronym", "I saw A cat", "I saw A cat"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), ENGLISH_CASES, ids=[c[0] for c in ENGLISH_CASES])
def test_english_cleaners_rule(rule, text, expected):
    assert english_cleaners(text) == expected


@pytest.mark.parametrize(("rule", "text", "expected"), FLOWTRON_CASES, ids=[c[0] for c in FLOWTRON_CASES])
def test_flowtron_cleaners_rule(rule, text, expected):
    assert flowtron_cleaners(text, dictionary=TINY_DICT) == expected


@pytest.mark.parametrize(
    ("cleaner", "text", "expected"),
    [
        (basic_cleaners, "Café  NAÏVE\tRoom 5", "café naïve room 5"),
        (transliteration_cleaners, "Café  NAÏVE\tRoom 5", "cafe naive room 5"),
        (flowtron_english_cleaners, "Ms. Smith met Mrs. Jones", "miss smith met misess jones"),
        (
            flowtron_english_cleaners,
            "1,234,567",
            "one million two hundred thirty four thousand five hundred sixty seven",
        ),
    ],
)
def test_other_cleaners(cleaner, text, expected):
    assert cleaner(text) == expected


def test_english_cleaners_output_fits_the_tacotron2_table_except_unlisted_signs():
    text = english_cleaners("On 4/5 Ltd. paid £1,000 & $2.50 (approx. 3.5%) to Señor Müller in 1845.")
    # Digits, currency signs and accents are all gone; "/", "&" and "%" have no symbol and get dropped.
    assert set(text) - set(symbol_table("tacotron2")) == {"/", "&", "%"}


def test_clean_text_runs_cleaners_in_order_and_accepts_a_single_name():
    assert clean_text("Dr.  Who", ["basic_cleaners", "english_cleaners"]) == "doctor who"
    assert clean_text("Dr.  Who", "english_cleaners") == "doctor who"
    assert clean_text("Dr.  Who", []) == "Dr.  Who"


def test_unknown_cleaner_name_is_an_error_listing_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown text cleaner 'english_cleaner'.*english_cleaners.*flowtron_cleaners"
    ):
        clean_text("hello", ["english_cleaner"])
