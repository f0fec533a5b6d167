"""Confusable phrases for a wake phrase, chosen offline from CMUdict pronunciations.

A wake word is only as good as its false alarms on near-homophones ("talk tape" for "talk type"), so the
demo's hardest negatives are phrases whose ARPAbet differs from the wake phrase by one phoneme in one word.
Candidate words come from the sentences the synthetic corpora speak, so every choice is a common English
word that eSpeak reads sensibly, and the choice is deterministic.
"""

from __future__ import annotations

import re

from ninerepro.data.synth.text_source import sentences
from ninerepro.text.cmudict import load_cmudict

_STRESS = re.compile(r"\d")


def phonemes(pron: str) -> tuple[str, ...]:
    """ARPAbet without stress digits: 'T AO1 K' -> ('T', 'AO', 'K')."""
    return tuple(_STRESS.sub("", p) for p in pron.split())


def one_edit_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when b is a with exactly one phoneme substituted, inserted or deleted."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def vocabulary() -> list[str]:
    """Lower-case alphabetic words of the synthetic sentence pool, in first-seen order."""
    seen: dict[str, None] = {}
    for sentence in sentences("train"):
        for word in re.findall(r"[a-z]+", sentence.lower()):
            if len(word) >= 3:
                seen.setdefault(word)
    return list(seen)


def neighbours(word: str, words: list[str]) -> list[str]:
    """Words of ``words`` one phoneme away from any pronunciation of ``word`` (CMUdict)."""
    cmu = load_cmudict()
    own = [phonemes(p) for p in cmu.lookup(word) or []]
    if not own:
        raise ValueError(f"wake phrase word {word!r} is not in CMUdict; pick a phrase of dictionary words")
    found = []
    for candidate in words:
        if candidate.startswith(word) or word.startswith(candidate):
            continue  # "types" contains "type": saying it says the wake phrase, so it is no negative
        prons = cmu.lookup(candidate) or []
        if any(one_edit_apart(o, phonemes(p)) for o in own for p in prons):
            found.append(candidate)
    return found


def confusable_phrases(phrase: str, limit: int = 24) -> list[str]:
    """Phrases that swap one word of ``phrase`` for a near-homophone, alternating between word positions."""
    words = phrase.lower().split()
    if not words:
        raise ValueError("the wake phrase is empty")
    pool = vocabulary()
    per_position = [[" ".join([*words[:i], n, *words[i + 1:]]) for n in neighbours(w, pool)]
                    for i, w in enumerate(words)]
    out: list[str] = []
    for k in range(max(map(len, per_position), default=0)):
        out.extend(p[k] for p in per_position if k < len(p))
    if not out:
        raise ValueError(f"no near-homophones of {phrase!r} in the sentence pool; choose another phrase")
    return out[:limit]
