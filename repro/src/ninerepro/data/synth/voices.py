"""Synthetic speakers: a distinct eSpeak accent + voice variant + pitch/rate per speaker, fixed per speaker.

A speaker's voice is a pure function of (corpus seed, speaker index), so the same speaker sounds the same
in every utterance and in every run, and different speakers differ in timbre (variant), accent and
prosody, which is what a multispeaker model or a speaker-independent recogniser needs to see.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ninerepro.data.synth.espeak import Voice

ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-029", "en-us-nyc")
# eSpeak variant files (espeak-ng-data/voices/!v) and the gender their "gender" line declares.
VARIANTS = {
    "m1": "M", "m2": "M", "m3": "M", "m4": "M", "m5": "M", "m6": "M", "m7": "M",
    "f1": "F", "f2": "F", "f3": "F", "f4": "F", "f5": "F", "anika": "F", "belinda": "F", "steph": "F",
}
# The LJSpeech stand-in: one US English female voice.
LJSPEECH_VOICE = Voice("en-us+f3", rate=165, pitch=55, pitch_range=60)


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: dataset-style numeric id, gender (for SPEAKERS.txt) and voice."""

    speaker_id: int
    gender: str
    voice: Voice


def make_speakers(count: int, seed: int, first_id: int = 19) -> list[Speaker]:
    """``count`` distinct speakers; the (accent, variant) pairs are dealt without repetition.

    Ids count up from ``first_id`` with seeded gaps, so they look like LibriSpeech reader ids rather than
    0..n-1 (which would hide bugs in the speaker-id mapping of the filelists).
    """
    rng = np.random.default_rng([seed, 7001])
    pairs = list(itertools.product(ACCENTS, VARIANTS))
    order = rng.permutation(len(pairs))
    speakers: list[Speaker] = []
    speaker_id = first_id
    for index in range(count):
        accent, variant = pairs[int(order[index % len(pairs)])]
        voice = Voice(f"{accent}+{variant}", rate=int(rng.integers(145, 196)), pitch=int(rng.integers(30, 76)),
                      pitch_range=int(rng.integers(35, 86)))
        speakers.append(Speaker(speaker_id, VARIANTS[variant], voice))
        speaker_id += int(rng.integers(1, 90))
    return speakers
