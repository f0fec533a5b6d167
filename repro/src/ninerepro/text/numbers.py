"""Spelling out numbers for ``english_cleaners`` (Tacotron 2 and Mellotron rules).

A TTS model reads characters, so "1999" must become the words a speaker would say. The rules, in the
order they are applied (NVIDIA/tacotron2 text/numbers.py):

1. thousands separators are removed ("1,000" -> "1000");
2. pounds: "£5" -> "5 pounds";
3. dollars: "$3.50" -> "3 dollars, 50 cents", with "dollar"/"cent" for exactly one;
4. decimals: "3.14" -> "3 point 14";
5. ordinals: "21st" -> "twenty-first";
6. integers: 1001..2999 are read as years ("nineteen ninety-nine", "two thousand five",
   "nineteen hundred"), everything else as a cardinal without "and" ("one hundred five").

Rules 2-4 leave digits behind on purpose: step 6 reads them.
"""

from __future__ import annotations

import functools
import re

THOUSANDS_RE = re.compile(r"([0-9][0-9,]+[0-9])")
POUNDS_RE = re.compile(r"£([0-9,]*[0-9]+)")
_DOLLARS_RE = re.compile(r"\$([0-9.,]*[0-9]+)")
DECIMAL_RE = re.compile(r"([0-9]+\.[0-9]+)")
ORDINAL_RE = re.compile(r"[0-9]+(?:st|nd|rd|th)")
_INTEGER_RE = re.compile(r"[0-9]+")


@functools.cache
def _inflect_engine():
    """One inflect engine, built on first use: importing inflect costs seconds (typeguard), which every
    process that merely imports ``ninerepro.text`` (servers, CTC vocabularies) should not pay."""
    import inflect

    return inflect.engine()


def number_words(value: int | str, **options: object) -> str:
    """inflect's ``number_to_words`` (kept in one place so both rule sets share one engine)."""
    return _inflect_engine().number_to_words(value, **options)


def drop_thousands_separators(match: re.Match[str]) -> str:
    return match.group(1).replace(",", "")


def spell_decimal_point(match: re.Match[str]) -> str:
    return match.group(1).replace(".", " point ")


def spell_ordinal(match: re.Match[str]) -> str:
    return number_words(match.group(0))


def unit(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def split_money(amount: str) -> tuple[int, int] | None:
    """``"3.50"`` -> (3, 50); None for amounts with more than one point (left to the caller).

    The part after the point is read as a whole number of cents, as in the official rule, so "$3.5"
    is "3 dollars, 5 cents".
    """
    parts = amount.replace(",", "").split(".")
    if len(parts) > 2:
        return None
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    return dollars, cents


def _spell_dollars(match: re.Match[str]) -> str:
    amount = match.group(1)
    split = split_money(amount)
    if split is None:
        return amount + " dollars"
    dollars, cents = split
    spoken = []
    if dollars:
        spoken.append(f"{dollars} {unit(dollars, 'dollar', 'dollars')}")
    if cents:
        spoken.append(f"{cents} {unit(cents, 'cent', 'cents')}")
    return ", ".join(spoken) if spoken else "zero dollars"


def year_words(number: int) -> str:
    """How a year between 1001 and 2999 is said; hyphens as inflect writes them ("ninety-nine")."""
    if number == 2000:
        return "two thousand"
    if 2000 < number < 2010:
        return "two thousand " + number_words(number % 100)
    if number % 100 == 0:
        return number_words(number // 100) + " hundred"
    # group=2 reads digit pairs ("nineteen, oh five"); the pair separator is dropped.
    return number_words(number, andword="", zero="oh", group=2).replace(", ", " ")


def is_year(number: int) -> bool:
    return 1000 < number < 3000


def _spell_integer(match: re.Match[str]) -> str:
    number = int(match.group(0))
    if is_year(number):
        return year_words(number)
    return number_words(number, andword="")


def normalize_numbers(text: str) -> str:
    """Apply the six number rules above to ``text`` (expected lower case, ASCII apart from '£')."""
    text = THOUSANDS_RE.sub(drop_thousands_separators, text)
    text = POUNDS_RE.sub(r"\1 pounds", text)
    text = _DOLLARS_RE.sub(_spell_dollars, text)
    text = DECIMAL_RE.sub(spell_decimal_point, text)
    text = ORDINAL_RE.sub(spell_ordinal, text)
    return _INTEGER_RE.sub(_spell_integer, text)
