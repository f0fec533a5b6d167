"""Helpers shared by the crnn-kws tests: config paths and small configs."""

from __future__ import annotations

from pathlib import Path

from crnn_kws.config import KwsConfig
from ninerepro.train import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def config(name: str = "tiny", *overrides: str) -> KwsConfig:
    return load_config(KwsConfig, CONFIGS / f"{name}.json", list(overrides))


def write_speech_commands_fixture(root: Path, n_speakers: int = 10, extra_words: tuple[str, ...] = ("bed", "bird"),
                                  seconds: float = 0.5) -> Path:
    """A tiny Speech Commands v2 folder in the real layout: <word>/<hash>_nohash_<k>.wav (16 kHz mono int16),
    validation_list.txt / testing_list.txt from the SHA-1 rule, and _background_noise_/*.wav.

    Each word is a tone at its own pitch, so a model can learn the classes in a few steps.
    """
    import numpy as np
    import soundfile as sf

    from ninerepro.data.datasets.speech_commands import COMMANDS, which_set
    from ninerepro.data.synth.speech_commands import speaker_hashes

    hashes = speaker_hashes(n_speakers, seed=0)  # speaker k % 10 == 0 validation, 1 testing, else training
    lists: dict[str, list[str]] = {"validation": [], "testing": []}
    t = np.arange(int(16000 * seconds)) / 16000
    for w, word in enumerate((*COMMANDS, *extra_words)):
        (root / word).mkdir(parents=True, exist_ok=True)
        for k, h in enumerate(hashes):
            name = f"{h}_nohash_0.wav"
            wav = 0.3 * np.sin(2 * np.pi * (200 + 150 * w) * t) * (1 + 0.05 * k)
            sf.write(root / word / name, wav, 16000, subtype="PCM_16")
            if which_set(name) in lists:
                lists[which_set(name)].append(f"{word}/{name}")
    for split, name in (("validation", "validation_list.txt"), ("testing", "testing_list.txt")):
        (root / name).write_text("".join(f"{p}\n" for p in sorted(lists[split])))
    (root / "_background_noise_").mkdir()
    noise = np.random.default_rng(0).standard_normal(16000 * 3) * 0.1
    sf.write(root / "_background_noise_" / "white_noise.wav", noise, 16000, subtype="PCM_16")
    return root
