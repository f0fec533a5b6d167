"""The TTS demos' embedded corpus: short phrases spoken by several eSpeak NG voices, each utterance at its own pitch.

Mellotron's and Flowtron's claims are about speakers, pitch and prosodic variation, so the corpus varies all of
them: a handful of speakers (distinct accent, timbre and base pitch, from ``ninerepro.data.synth.voices``) and, per
utterance, a random pitch offset and pitch range around the speaker's own, so the prosody carries information
the text does not. Phrases are two to four words from a small vocabulary written here, so a CPU-sized model can
learn attention in minutes. The output is the real LibriTTS-filelist layout of both official repos: wavs at
22050 Hz and ``path|text|speaker`` filelists.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ninerepro.atomic import atomic_write_text
from ninerepro.audio.io import save_wav
from ninerepro.data.filelists import FilelistEntry, write_filelist
from ninerepro.data.synth.render import render
from ninerepro.data.synth.voices import make_speakers

WORDS = ("red", "green", "blue", "small", "large", "cold", "warm", "quick", "slow", "bright", "dark", "old", "new",
         "bird", "boat", "cat", "dog", "fish", "horse", "house", "lamp", "moon", "river", "road", "stone", "tree",
         "sings", "runs", "sleeps", "waits", "falls", "shines", "grows", "turns", "stays", "moves",
         "today", "again", "slowly", "softly", "here", "there", "now", "away")
MARKER = ".tts-demo-corpus.json"


@dataclass(frozen=True)
class CorpusSpec:
    n_train: int = 240
    n_val: int = 12
    n_speakers: int = 4
    seed: int = 0
    sampling_rate: int = 22050


def phrases(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct phrases of 2-4 words, capitalised, ending in a full stop."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        words = rng.choice(WORDS, size=int(rng.integers(2, 5)), replace=False)
        text = " ".join(words).capitalize() + "."
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def build_corpus(out: Path, spec: CorpusSpec = CorpusSpec(), workers: int = 1) -> Path:
    """Write the corpus under ``out`` (wavs/, filelists/train.txt, filelists/val.txt); a finished corpus with the
    same spec is reused, another spec is an error (delete the folder or choose another)."""
    marker = out / MARKER
    if marker.is_file():
        if json.loads(marker.read_text()) == asdict(spec):
            return out
        raise FileExistsError(f"{out} holds a demo corpus made with other settings; delete it or pass another --out")
    rng = np.random.default_rng([spec.seed, 11])
    speakers = make_speakers(spec.n_speakers, spec.seed)
    texts = phrases(spec.n_train + spec.n_val, rng)
    items, meta = [], []
    for i, text in enumerate(texts):
        spk = speakers[i % len(speakers)]
        pitch = int(np.clip(spk.voice.pitch + rng.integers(-20, 21), 5, 95))
        voice = replace(spk.voice, pitch=pitch, pitch_range=int(rng.integers(20, 90)))
        items.append((text, voice))
        meta.append((f"wavs/{spk.speaker_id}_{i:04d}.wav", text, str(spk.speaker_id)))
    (out / "wavs").mkdir(parents=True, exist_ok=True)
    for (rel, _, _), wav in zip(meta, render(items, spec.sampling_rate, spec.seed, workers, "tts demo corpus")):
        save_wav(out / rel, wav, spec.sampling_rate)
    entries = [FilelistEntry(str(out / rel), text, spk) for rel, text, spk in meta]
    write_filelist(out / "filelists" / "train.txt", entries[: spec.n_train])
    write_filelist(out / "filelists" / "val.txt", entries[spec.n_train :])
    atomic_write_text(marker, json.dumps(asdict(spec)))
    return out
