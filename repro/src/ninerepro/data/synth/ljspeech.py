"""A synthetic LJSpeech: one voice, ``metadata.csv`` (``id|raw|normalised``) and ``wavs/LJxxx-yyyy.wav``.

Raw text keeps digits; the normalised column spells them out and is what the voice speaks, mirroring the
real corpus where column 3 is the reading of column 2. All sentences come from the "train" list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ninerepro.atomic import atomic_write_text
from ninerepro.audio.io import save_wav
from ninerepro.data.datasets.ljspeech import SAMPLE_RATE
from ninerepro.data.synth.render import render
from ninerepro.data.synth.text_source import expand_numbers, pick_sentences
from ninerepro.data.synth.voices import LJSPEECH_VOICE


def clip_ids(n: int, seed: int) -> list[str]:
    """LJ-style ids: chapter LJ001, LJ002, ... with a seeded 20-60 clips per chapter, counted from 0001."""
    rng = np.random.default_rng([seed, 11])
    ids: list[str] = []
    chapter = 1
    while len(ids) < n:
        size = int(rng.integers(20, 61))
        ids.extend(f"LJ{chapter:03d}-{k:04d}" for k in range(1, size + 1))
        chapter += 1
    return ids[:n]


def write_ljspeech(out: Path, n: int, seed: int, workers: int) -> Path:
    """Write the corpus into ``out`` (which plays the role of ``LJSpeech-1.1/``) and return ``out``."""
    raw_texts = pick_sentences(n, "train", seed, salt=1)
    spoken = [expand_numbers(text) for text in raw_texts]
    ids = clip_ids(n, seed)
    audio = render([(text, LJSPEECH_VOICE) for text in spoken], SAMPLE_RATE, seed, workers, "ljspeech")
    for utt_id, wav in zip(ids, audio):
        save_wav(out / "wavs" / f"{utt_id}.wav", wav, SAMPLE_RATE)
    lines = [f"{utt_id}|{raw}|{norm}\n" for utt_id, raw, norm in zip(ids, raw_texts, spoken)]
    atomic_write_text(out / "metadata.csv", "".join(lines))
    return out
