"""MCD/LSD scoring of a folder of vocoded wavs against the references (the recipe's last stage)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ninerepro.audio import save_wav
from waveglow.evaluate import main


def tone(path, noise: float, seed: int = 0):
    t = np.arange(11025) / 22050
    wav = 0.3 * np.sin(2 * np.pi * 300 * t) + noise * np.random.default_rng(seed).normal(size=len(t))
    save_wav(path, wav.astype(np.float32), 22050)
    return path


def test_identical_audio_scores_zero_and_noisier_audio_scores_worse(tmp_path):
    (tmp_path / "ref").mkdir()
    refs = [tone(tmp_path / "ref" / f"u{i}.wav", 0.01, seed=i) for i in range(2)]
    (tmp_path / "list.txt").write_text("".join(f"{r}|text\n" for r in refs), encoding="utf-8")
    scores = {}
    for name, noise in (("same", None), ("noisy", 0.1)):
        folder = tmp_path / name
        for i, ref in enumerate(refs):
            folder.mkdir(exist_ok=True)
            if noise is None:
                (folder / ref.name).write_bytes(ref.read_bytes())
            else:
                tone(folder / ref.name, noise, seed=10 + i)
        assert main(["-f", str(tmp_path / "list.txt"), "-s", str(folder), "-o", str(tmp_path / f"{name}.md")]) == 0
        scores[name] = json.loads((tmp_path / f"{name}.json").read_text())["mean"]
    assert scores["same"] == {"stoi": pytest.approx(1.0), "mcd_db": 0.0, "lsd_db": 0.0}
    assert scores["noisy"]["mcd_db"] > 1 and scores["noisy"]["lsd_db"] > 1
    assert scores["noisy"]["stoi"] < scores["same"]["stoi"]


def test_a_missing_synthesised_file_is_named(tmp_path):
    ref = tone(tmp_path / "u0.wav", 0.01)
    (tmp_path / "synth").mkdir()
    with pytest.raises(FileNotFoundError, match=r"u0\.wav: no synthesised audio"):
        main(["-f", str(ref), "-s", str(tmp_path / "synth"), "-o", str(tmp_path / "r.md")])
