"""Synthetic LibriSpeech and LibriTTS: audiobook-style trees of speakers, chapters and utterances.

Both corpora share one plan: ~80 % of the utterances go to ``train-clean-100`` (sentences from the
"train" list) and ~10 % each to ``dev-clean`` and ``test-clean`` (sentences from the "heldout" list,
spoken by speakers who never appear in training, as in the real corpora). Each speaker reads one or two
chapters. Only the file naming, sample rate and transcript files differ between the two.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ninerepro.atomic import atomic_write_text
from ninerepro.audio.io import save_wav
from ninerepro.data.datasets.corpus import split_counts
from ninerepro.data.synth.render import render
from ninerepro.data.synth.text_source import expand_numbers, librispeech_transcript, pick_sentences
from ninerepro.data.synth.voices import Speaker, make_speakers

SUBSETS = (("train-clean-100", "train"), ("dev-clean", "heldout"), ("test-clean", "heldout"))


@dataclass(frozen=True)
class PlannedUtterance:
    subset: str
    speaker: Speaker
    chapter: int
    index: int  # position within the chapter, from 0
    sentence: str  # the book text (digits kept)


def _chapters(speakers: list[Speaker], seed: int) -> dict[int, list[int]]:
    """One or two distinct chapter ids (100-9999) per speaker."""
    rng = np.random.default_rng([seed, 23])
    ids = rng.choice(np.arange(100, 10000), size=2 * len(speakers), replace=False)
    return {s.speaker_id: [int(ids[2 * k])] + ([int(ids[2 * k + 1])] if rng.random() < 0.5 else [])
            for k, s in enumerate(speakers)}


def plan_read_speech(n: int, seed: int, utts_per_speaker: int = 10) -> list[PlannedUtterance]:
    """Assign n utterances to subsets, speakers (contiguous blocks) and chapters."""
    n_train, n_dev, n_test = split_counts(n, 0.1, 0.1)
    sizes = dict(zip([name for name, _ in SUBSETS], (n_train, n_dev, n_test)))
    heldout = iter(pick_sentences(n_dev + n_test, "heldout", seed, salt=2))
    train = iter(pick_sentences(n_train, "train", seed, salt=3))
    counts = {name: max(1, math.ceil(size / utts_per_speaker)) for name, size in sizes.items()}
    speakers = make_speakers(sum(counts.values()), seed)
    chapters = _chapters(speakers, seed)
    plan: list[PlannedUtterance] = []
    per_chapter_index: dict[int, int] = defaultdict(int)
    first = 0
    for name, sentence_split in SUBSETS:
        group, size = speakers[first:first + counts[name]], sizes[name]
        first += counts[name]
        per_chapter: dict[int, int] = defaultdict(int)
        for j in range(size):
            speaker = group[j * len(group) // size]
            own = chapters[speaker.speaker_id]
            chapter = own[per_chapter[speaker.speaker_id] % len(own)]
            per_chapter[speaker.speaker_id] += 1
            index = per_chapter_index[chapter]
            per_chapter_index[chapter] += 1
            sentence = next(train if sentence_split == "train" else heldout)
            plan.append(PlannedUtterance(name, speaker, chapter, index, sentence))
    return plan


def _speakers_file(plan: list[PlannedUtterance], minutes: dict[int, float]) -> str:
    """A SPEAKERS.TXT in LibriSpeech's column layout (id | sex | subset | minutes | name)."""
    lines = ["; ID  |SEX| SUBSET           |MINUTES| NAME\n"]
    seen: dict[int, PlannedUtterance] = {}
    for p in plan:
        seen.setdefault(p.speaker.speaker_id, p)
    for sid, p in sorted(seen.items()):
        voice = p.speaker.voice.name
        lines.append(f"{sid:<5}| {p.speaker.gender} | {p.subset:<17}| {minutes[sid]:5.2f} | eSpeak {voice}\n")
    return "".join(lines)


def _write_tree(out: Path, plan: list[PlannedUtterance], sr: int, suffix: str, seed: int, workers: int,
                desc: str, name_of: Callable[[PlannedUtterance], str], spoken_of: Callable[[str], str]) -> dict:
    """Render and save every planned utterance; returns {speaker id: minutes of audio}."""
    minutes: dict[int, float] = defaultdict(float)
    audio = render([(spoken_of(p.sentence), p.speaker.voice) for p in plan], sr, seed, workers, desc)
    for p, wav in zip(plan, audio):
        folder = out / p.subset / str(p.speaker.speaker_id) / str(p.chapter)
        save_wav(folder / f"{name_of(p)}{suffix}", wav, sr)
        minutes[p.speaker.speaker_id] += len(wav) / sr / 60
    return minutes


def write_librispeech(out: Path, n: int, seed: int, workers: int) -> Path:
    """LibriSpeech layout under ``out`` (the ``LibriSpeech/`` folder): 16 kHz flac + UPPERCASE trans.txt."""
    plan = plan_read_speech(n, seed)
    name_of = lambda p: f"{p.speaker.speaker_id}-{p.chapter}-{p.index:04d}"  # noqa: E731
    minutes = _write_tree(out, plan, 16000, ".flac", seed, workers, "librispeech", name_of, expand_numbers)
    transcripts: dict[Path, list[str]] = defaultdict(list)
    for p in plan:
        folder = out / p.subset / str(p.speaker.speaker_id) / str(p.chapter)
        transcripts[folder / f"{p.speaker.speaker_id}-{p.chapter}.trans.txt"].append(
            f"{name_of(p)} {librispeech_transcript(p.sentence)}\n")
    for path, lines in transcripts.items():
        atomic_write_text(path, "".join(lines))
    atomic_write_text(out / "SPEAKERS.TXT", _speakers_file(plan, minutes))
    return out


def write_libritts(out: Path, n: int, seed: int, workers: int) -> Path:
    """LibriTTS layout under ``out`` (the ``LibriTTS/`` folder): 24 kHz wav + .normalized/.original.txt + .trans.tsv."""
    plan = plan_read_speech(n, seed)
    name_of = lambda p: f"{p.speaker.speaker_id}_{p.chapter}_{p.index // 2:06d}_{p.index % 2:06d}"  # noqa: E731
    minutes = _write_tree(out, plan, 24000, ".wav", seed, workers, "libritts", name_of, expand_numbers)
    tables: dict[Path, list[str]] = defaultdict(list)
    for p in plan:
        folder = out / p.subset / str(p.speaker.speaker_id) / str(p.chapter)
        normalised = expand_numbers(p.sentence)
        atomic_write_text(folder / f"{name_of(p)}.original.txt", p.sentence)  # one line, no newline, as in LibriTTS
        atomic_write_text(folder / f"{name_of(p)}.normalized.txt", normalised)
        tables[folder / f"{p.speaker.speaker_id}_{p.chapter}.trans.tsv"].append(
            f"{name_of(p)}\t{p.sentence}\t{normalised}\n")
    for path, lines in tables.items():
        atomic_write_text(path, "".join(lines))
    atomic_write_text(out / "SPEAKERS.txt", _speakers_file(plan, minutes))
    return out
