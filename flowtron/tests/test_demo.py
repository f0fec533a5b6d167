"""The demo's measuring pieces: the speaker classifier it holds syntheses to, and its step arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowtron.config import FlowtronConfig
from flowtron.data import load_mel, read_flowtron_list
from flowtron.demo import SpeakerProfiles, run_demo
from repro.audio.io import save_wav
from repro.data.filelists import speaker_table


def three_voice_corpus(folder: Path, per_voice: int = 3, sr: int = 22050) -> Path:
    """Each 'speaker' hums in its own pitch band (with per-clip jitter), so their mean spectra differ."""
    rng = np.random.default_rng(0)
    lines = []
    for s, (speaker, f0) in enumerate((("19", 110.0), ("205", 220.0), ("7", 440.0))):
        for j in range(per_voice):
            t = np.arange(int(sr * 0.5)) / sr
            f = f0 * (1 + 0.03 * rng.standard_normal())
            wav = sum(0.2 / k * np.sin(2 * np.pi * k * f * t) for k in (1, 2, 3)).astype(np.float32)
            save_wav(folder / f"s{s}_{j}.wav", wav, sr)
            lines.append(f"{folder / f's{s}_{j}.wav'}|red boat.|{speaker}")
    (folder / "train.txt").write_text("\n".join(lines) + "\n")
    return folder / "train.txt"


def test_speaker_profiles_recognise_the_speakers_of_their_own_clips_and_a_shifted_spectrum(tmp_path: Path):
    train = three_voice_corpus(tmp_path)
    cfg = FlowtronConfig()
    entries = read_flowtron_list(train)
    speakers = speaker_table(entries)
    profiles = SpeakerProfiles.fit(entries, cfg, speakers)
    assert profiles.centroids.shape == (len(speakers), cfg.model.n_mel_channels)
    assert profiles.real_accuracy(entries, cfg, speakers) == 1.0
    mel = load_mel(entries[0].path, cfg.data)
    own = speakers[entries[0].speaker]
    assert profiles.nearest(mel) == own
    far = mel + 50 * (profiles.centroids[(own + 1) % len(speakers)] - profiles.centroids[own])[:, None] * \
        profiles.std[:, None]
    assert profiles.nearest(far) == (own + 1) % len(speakers)


@pytest.mark.parametrize("steps,prior_steps", [(100, 0), (100, 100), (100, 30)])
def test_prior_steps_outside_the_run_or_off_the_validation_grid_is_refused(tmp_path: Path, steps, prior_steps):
    with pytest.raises(ValueError, match="--prior-steps"):
        run_demo(tmp_path, steps=steps, val_every=50, prior_steps=prior_steps)
