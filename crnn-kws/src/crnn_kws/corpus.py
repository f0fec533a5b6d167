"""The demo's synthetic wake-phrase corpus: positives, confusable negatives, read speech and noise.

Layout under ``root`` (each audio file 16 kHz mono)::

    positives/{train,test}/NNNN.wav     the wake phrase, many eSpeak voices (test voices never train)
    confusables/{train,test}/NNNN.wav   near-homophone phrases (``phrases.py``), the same voice split
    LibriSpeech/                        read speech from ninerepro.data.synth (train-clean-100 / test-clean)
    noise/{train,test}/*.wav            coloured noise and babble (test babble from held-out talkers)
    corpus.json                         what was made (phrase, counts, seed), written last

The folder is built beside ``root`` and renamed into place when complete, so an interrupted build never
leaves a half corpus that a later run would take for a whole one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from crnn_kws.phrases import confusable_phrases
from ninerepro.atomic import atomic_write_text
from ninerepro.audio import load_wav, save_wav
from ninerepro.data.synth.cli import build as build_synth
from ninerepro.data.synth.noise import NOISE_COLOURS, babble, coloured_noise
from ninerepro.data.synth.render import render
from ninerepro.data.synth.voices import make_speakers

SR = 16000
MANIFEST = "corpus.json"
SPLITS = ("train", "test")
SPEECH_SUBSETS = {"train": "train-clean-100", "test": "test-clean"}
TEST_EVERY = 5  # every fifth voice is a test voice


def voice_split(n_voices: int, seed: int) -> dict[str, list]:
    """Speakers dealt to train / test; every fifth (accent, variant) pair is held out for testing."""
    speakers = make_speakers(n_voices, seed)
    return {"train": [s for i, s in enumerate(speakers) if i % TEST_EVERY != TEST_EVERY - 1],
            "test": [s for i, s in enumerate(speakers) if i % TEST_EVERY == TEST_EVERY - 1]}


def _speak(folder: Path, texts: list[str], voices: list, seed: int, workers: int, desc: str) -> None:
    """Render texts[i] with voices[i % len] at a per-take speaking rate, as numbered wav files."""
    rng = np.random.default_rng([seed, 97])
    items = [(t, dataclasses.replace(voices[i % len(voices)].voice,
                                     rate=int(rng.integers(130, 210)))) for i, t in enumerate(texts)]
    for i, wav in enumerate(render(items, SR, seed, workers, desc, margin_s=0.05)):
        save_wav(folder / f"{i:04d}.wav", wav, SR)


def _noise(folder: Path, speech: list[Path], seconds: float, seed: int) -> None:
    n = int(seconds * SR)
    for colour in NOISE_COLOURS:
        save_wav(folder / f"{colour}.wav", coloured_noise(colour, n, seed), SR)
    talkers = [load_wav(p, SR)[0] for p in speech[:6]]
    save_wav(folder / "babble.wav", babble(talkers, n), SR)


@contextlib.contextmanager
def building(root: Path) -> Iterator[Path]:
    """A fresh folder beside ``root`` that becomes ``root`` when the block ends, and is removed if it fails.

    Readers take a corpus folder as whole when it exists, so it must never exist half-written.
    """
    if root.exists():
        raise FileExistsError(f"{root} already exists; delete it or choose another folder")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_corpus(root: Path, phrase: str, n_positive: int, n_confusable: int, n_speech: int, seed: int = 0,
                 n_voices: int = 105, workers: int = 2, noise_seconds: float = 60.0) -> Path:
    """Build the corpus at ``root`` (see the module docstring); refuses to overwrite an existing folder."""
    root = Path(root)
    with building(root) as tmp:
        voices = voice_split(n_voices, seed)
        confusables = confusable_phrases(phrase)
        for split in SPLITS:
            share = 0.8 if split == "train" else 0.2
            _speak(tmp / "positives" / split, [phrase] * round(n_positive * share), voices[split], seed + 1,
                   workers, f"{split} positives")
            texts = [confusables[i % len(confusables)] for i in range(round(n_confusable * share))]
            _speak(tmp / "confusables" / split, texts, voices[split], seed + 2, workers, f"{split} confusables")
        build_synth("librispeech", tmp / "LibriSpeech", n_speech, seed, workers)
        for split, subset in SPEECH_SUBSETS.items():
            _noise(tmp / "noise" / split, sorted((tmp / "LibriSpeech" / subset).rglob("*.flac")), noise_seconds,
                   seed + (0 if split == "train" else 1000))
        atomic_write_text(tmp / MANIFEST, json.dumps({
            "phrase": phrase, "confusables": confusables, "n_positive": n_positive, "n_confusable": n_confusable,
            "n_speech": n_speech, "n_voices": n_voices, "seed": seed}, indent=1) + "\n")
    return root
