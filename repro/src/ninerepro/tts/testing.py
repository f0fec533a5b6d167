"""Test helpers for the Tacotron-family subprojects: a tiny corpus of tones in the ``path|text|speaker`` layout."""

from __future__ import annotations

from pathlib import Path


def write_tone_corpus(folder: Path, n: int = 6, sr: int = 22050) -> tuple[Path, Path]:
    """Short voiced tones with words, in the Flowtron/Mellotron filelist format; returns (train list, val list)."""
    import numpy as np

    from ninerepro.audio.io import save_wav

    folder.mkdir(parents=True, exist_ok=True)
    words = ["red boat", "blue moon", "cold river", "small bird", "warm stone", "dark tree", "old road"]
    lines = []
    for i in range(n):
        t = np.arange(int(sr * (0.4 + 0.05 * i))) / sr
        wav = (0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t)).astype(np.float32)
        save_wav(folder / f"u{i}.wav", wav, sr)
        lines.append(f"{folder / f'u{i}.wav'}|{words[i % len(words)]}.|{[19, 205, 7][i % 3]}")
    (folder / "train.txt").write_text("\n".join(lines[:-2]) + "\n")
    (folder / "val.txt").write_text("\n".join(lines[-2:]) + "\n")
    return folder / "train.txt", folder / "val.txt"


__all__ = ["write_tone_corpus"]
