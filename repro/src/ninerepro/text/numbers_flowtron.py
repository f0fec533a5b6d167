"""Spelling out numbers for ``flowtron_cleaners`` (NVIDIA/flowtron text/numbers.py rules).

Flowtron extends the Tacotron 2 rules (see ``ninerepro.text.numbers``) in four ways:

- money is spelled immediately ("$3.50" -> "three dollars, fifty cents "), and a scale word after a
  dollar amount moves the unit to the end ("$5 million" -> "5 million dollars ");
- a number directly followed by a unit letter f/c/k/d is a measurement ("98F" -> "ninety-eight
  fahrenheit", "5k" -> "five thousand", "3 d" -> "three d");
- numbers are written without hyphens or commas ("twenty one", "one million two hundred thousand");
- a decade with "'s" is a plural ("1980's" -> "nineteen eighties").

Where the official code loses or glues words, this version does not (documented divergences): a scale
word in another case ("$5 Million") is still read; a plural "'s" after a number not ending in "y"
becomes "s"/"es" ("1900's" -> "nineteen hundreds") instead of being dropped; "$0" and malformed amounts
("$1.2.3") end with a space like every other amount, so "$0 today" is not "zero dollarstoday".
"""

from __future__ import annotations

import re

from ninerepro.text.numbers import (
    DECIMAL_RE,
    ORDINAL_RE,
    POUNDS_RE,
    THOUSANDS_RE,
    drop_thousands_separators,
    is_year,
    number_words,
    spell_decimal_point,
    spell_ordinal,
    split_money,
    unit,
    year_words,
)

_SCALES = ("trillion", "billion", "million", "thousand", "hundred")
_DOLLARS_RE = re.compile(r"\$([0-9.,]*[0-9]+) ?(" + "|".join(_SCALES) + r")?", re.IGNORECASE)
_MEASUREMENT_RE = re.compile(r"([0-9.,]*[0-9]+)\s?([fckd])\b", re.IGNORECASE)
_MEASUREMENT_UNITS = {"f": "fahrenheit", "c": "celsius", "k": "thousand", "d": "d"}
_NUMBER_RE = re.compile(r"([0-9]+)('s)?")
_LEADING_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def _spell_dollars(match: re.Match[str]) -> str:
    amount, scale = match.group(1), match.group(2)
    if scale:
        return f"{amount} {scale.lower()} dollars "
    split = split_money(amount)
    if split is None:
        return amount + " dollars "
    dollars, cents = split
    spoken = []
    if dollars:
        spoken.append(f"{number_words(dollars)} {unit(dollars, 'dollar', 'dollars')}")
    if cents:
        spoken.append(f"{number_words(cents)} {unit(cents, 'cent', 'cents')}")
    # The trailing space stands in for the optional space the pattern consumed after the amount.
    return (", ".join(spoken) if spoken else "zero dollars") + " "


def _spell_measurement(match: re.Match[str]) -> str:
    number = _LEADING_NUMBER_RE.search(match.group(1))
    if number is None:  # only separators before the last digits, e.g. ",5k": read the digits
        number = re.search(r"\d+", match.group(1))
    assert number is not None  # the pattern guarantees at least one digit
    # Official quirk kept: measurements use inflect's default "and" ("one hundred and five").
    return f"{number_words(number.group(0))} {_MEASUREMENT_UNITS[match.group(2).lower()]}"


def _plural(words: str) -> str:
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def _spell_integer(match: re.Match[str]) -> str:
    number = int(match.group(1))
    if is_year(number):
        words = year_words(number)
        if number % 100:  # official: only digit-pair years lose hyphens; "twenty-one hundred" keeps it
            words = words.replace("-", " ")
    else:
        words = number_words(number, andword="").replace("-", " ").replace(",", "")
    return _plural(words) if match.group(2) else words


def normalize_numbers_flowtron(text: str) -> str:
    """Flowtron's number rules, in its order: separators, £, $, decimals, ordinals, units, integers."""
    text = THOUSANDS_RE.sub(drop_thousands_separators, text)
    text = POUNDS_RE.sub(r"\1 pounds", text)
    text = _DOLLARS_RE.sub(_spell_dollars, text)
    text = DECIMAL_RE.sub(spell_decimal_point, text)
    text = ORDINAL_RE.sub(spell_ordinal, text)
    text = _MEASUREMENT_RE.sub(_spell_measurement, text)
    return _NUMBER_RE.sub(_spell_integer, text)
