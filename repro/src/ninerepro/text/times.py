"""Clock times for ``flowtron_cleaners`` (NVIDIA/flowtron text/datestime.py rules).

"3:30pm" -> "3 30 PM", "11:00 am" -> "11 AM", "7pm" -> "7 PM", and a bare "14:45" -> "14 45"; the
number rules then read the digits. "AM"/"PM" are upper case on purpose: the acronym rule that runs
afterwards spells them letter by letter in ARPAbet.

Divergence from the official code: it compares the first letter of the suffix with lower-case "a"/"p"
only, so "3:30PM" lost its "PM"; here either case is recognised.
"""

from __future__ import annotations

import re

# Hours 0-23 (one or two digits), optional ":" and minutes, optional space, am/pm as a whole word.
_HOUR = r"([0-9]|0[0-9]|1[0-9]|2[0-3])"
_AM_PM_RE = re.compile(_HOUR + r":?([0-5][0-9])?\s*([AaPp][Mm]\b)")
_CLOCK_RE = re.compile(_HOUR + r":([0-5][0-9])?")


def _spell_am_pm(match: re.Match[str]) -> str:
    hour, minutes, suffix = match.groups()
    words = [hour]
    if minutes and minutes != "00":
        words.append(minutes)
    words.append("AM" if suffix[0] in "Aa" else "PM")
    return " ".join(words)


def normalize_times(text: str) -> str:
    """Rewrite am/pm times, then split remaining ``H:MM`` clock times into hour and minutes."""
    text = _AM_PM_RE.sub(_spell_am_pm, text)
    # An unmatched minutes group is substituted as "" (so "5:" becomes "5 ").
    return _CLOCK_RE.sub(lambda m: f"{m.group(1)} {m.group(2) or ''}", text)
