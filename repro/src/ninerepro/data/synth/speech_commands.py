"""A synthetic Speech Commands: one folder per word of 1 s, 16 kHz clips, split lists, background noise.

Speakers get hashes like the real ``0a7c2a8d``; each is drawn until TensorFlow's SHA-1 rule puts it in
the split we want for it (every tenth speaker validation, the next testing, the rest training), so the
shipped ``validation_list.txt`` / ``testing_list.txt`` agree with the real rule and no split is empty.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from ninerepro.atomic import atomic_write_text
from ninerepro.audio.io import save_wav
from ninerepro.data.datasets.speech_commands import BACKGROUND_DIR, SAMPLE_RATE, SPLIT_FILES, WORDS_V2, which_set
from ninerepro.data.synth.noise import NOISE_COLOURS, babble, coloured_noise
from ninerepro.data.synth.render import render
from ninerepro.data.synth.text_source import pick_sentences
from ninerepro.data.synth.voices import make_speakers

CLIP_SAMPLES = SAMPLE_RATE  # 1 s
NOISE_FLOOR_RMS = 3e-4  # a faint hiss, as real recordings never contain digital silence
BABBLE_TALKERS = 6
_TARGET = {0: "validation", 1: "testing"}  # speaker k % 10 -> split; all others training


def speaker_hashes(count: int, seed: int) -> list[str]:
    """8-hex-digit speaker hashes whose SHA-1 split is validation / testing / training by position."""
    rng = np.random.default_rng([seed, 41])
    hashes: list[str] = []
    while len(hashes) < count:
        target = _TARGET.get(len(hashes) % 10, "training")
        candidate = f"{int(rng.integers(0, 2**32)):08x}"
        if candidate not in hashes and which_set(f"{candidate}_nohash_0.wav") == target:
            hashes.append(candidate)
    return hashes


def plan_clips(n: int, words: tuple[str, ...], seed: int) -> list[tuple[str, int, str]]:
    """(word, speaker index, file name) for n clips; words rotate so each speaker says several."""
    n_speakers = max(3, math.ceil(n / 5))
    hashes = speaker_hashes(n_speakers, seed)
    repeats: Counter = Counter()
    clips = []
    for i in range(n):
        speaker = i % n_speakers
        word = words[(i // n_speakers + 7 * speaker) % len(words)]
        k = repeats[(speaker, word)]
        repeats[(speaker, word)] += 1
        clips.append((word, speaker, f"{hashes[speaker]}_nohash_{k}.wav"))
    return clips


def fit_to_clip(wav: np.ndarray, rng: np.random.Generator, length: int = CLIP_SAMPLES,
                floor_rms: float = NOISE_FLOOR_RMS) -> np.ndarray:
    """Place ``wav`` at a uniformly random offset in ``length`` samples (1 s by default) over a noise floor.

    A longer ``wav`` is centre-cropped. Keyword spotters use the same placement with their own window
    length (crnn_kws: a wake phrase inside a 1.5 s window), so the timing jitter is defined once here.
    """
    if length < 1:
        raise ValueError(f"fit_to_clip: length must be >= 1 sample, got {length}")
    if len(wav) > length:
        start = (len(wav) - length) // 2
        wav = wav[start:start + length]
    clip = (rng.standard_normal(length) * floor_rms).astype(np.float32)
    offset = int(rng.integers(0, length - len(wav) + 1))
    clip[offset:offset + len(wav)] += wav
    return clip


def write_background(out: Path, seed: int, workers: int, seconds: float) -> None:
    """Coloured noises and a babble track in ``_background_noise_/``, plus a README like the real one."""
    folder = out / BACKGROUND_DIR
    n_samples = int(seconds * SAMPLE_RATE)
    for colour in NOISE_COLOURS:
        save_wav(folder / f"{colour}_noise.wav", coloured_noise(colour, n_samples, seed), SAMPLE_RATE)
    talkers = make_speakers(BABBLE_TALKERS, seed + 1)
    texts = pick_sentences(BABBLE_TALKERS * 4, "train", seed, salt=5)
    items = [(texts[4 * t + j], talkers[t].voice) for t in range(BABBLE_TALKERS) for j in range(4)]
    audio = list(render(items, SAMPLE_RATE, seed + 1, workers, "babble"))
    voices = [np.concatenate(audio[4 * t:4 * t + 4]) for t in range(BABBLE_TALKERS)]
    save_wav(folder / "babble.wav", babble(voices, n_samples), SAMPLE_RATE)
    atomic_write_text(folder / "README.md", (
        "Generated background noise (ninerepro.data.synth): white, pink (1/f) and brown (1/f^2) noise, and babble\n"
        f"of {BABBLE_TALKERS} synthetic eSpeak NG talkers. {seconds:g} s each, 16 kHz mono.\n"))


def write_speech_commands(out: Path, n: int, seed: int, workers: int, words: tuple[str, ...] = WORDS_V2,
                          noise_seconds: float = 10.0) -> Path:
    """Write n keyword clips, the two split lists and the background noise folder under ``out``."""
    clips = plan_clips(n, words, seed)
    speakers = make_speakers(max(s for _, s, _ in clips) + 1, seed)
    audio = render([(word, speakers[s].voice) for word, s, _ in clips], SAMPLE_RATE, seed, workers,
                   "speech-commands", margin_s=0.05)
    lists: dict[str, list[str]] = {"validation": [], "testing": []}
    for i, ((word, _, name), wav) in enumerate(zip(clips, audio)):
        save_wav(out / word / name, fit_to_clip(wav, np.random.default_rng([seed, 53, i])), SAMPLE_RATE)
        split = which_set(name)
        if split in lists:
            lists[split].append(f"{word}/{name}")
    for split, name in (("validation", SPLIT_FILES["validation"]), ("testing", SPLIT_FILES["test"])):
        atomic_write_text(out / name, "".join(f"{p}\n" for p in sorted(lists[split])))
    write_background(out, seed, workers, noise_seconds)
    return out
