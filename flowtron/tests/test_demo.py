"""The demo's measuring pieces: the speaker classifier it holds syntheses to, and its step arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowtron.config import FlowtronConfig
from flowtron.data import load_mel, read_flowtron_list
from flowtron.demo import SpeakerProfiles, run_demo
from ninerepro.audio.io import save_wav
from ninerepro.data.filelists import speaker_table


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


def fitted_profiles(folder: Path):
    """(config, entries, speaker table, profiles fitted on them) for the three-voice corpus."""
    cfg = FlowtronConfig()
    entries = read_flowtron_list(three_voice_corpus(folder))
    speakers = speaker_table(entries)
    return cfg, entries, speakers, SpeakerProfiles.fit(entries, cfg, speakers)


def test_speaker_profiles_recognise_the_speakers_of_their_own_clips_and_a_shifted_spectrum(tmp_path: Path):
    cfg, entries, speakers, profiles = fitted_profiles(tmp_path)
    assert profiles.centroids.shape == (len(speakers), cfg.model.n_mel_channels)
    assert profiles.real_accuracy(entries, cfg, speakers) == 1.0
    mel = load_mel(entries[0].path, cfg.data)
    own = speakers[entries[0].speaker]
    assert profiles.nearest(mel) == own
    far = mel + 50 * (profiles.centroids[(own + 1) % len(speakers)] - profiles.centroids[own])[:, None] * \
        profiles.std[:, None]
    assert profiles.nearest(far) == (own + 1) % len(speakers)


def test_relative_speaker_check_credits_steering_that_the_nearest_profile_misses(tmp_path: Path):
    _, _, speakers, profiles = fitted_profiles(tmp_path)
    # a strong default voice (speaker 0's), nudged a fifth of the way toward each requested speaker
    base = profiles.centroids[0]
    mels = [((base + 0.2 * (profiles.centroids[s] - base)) * profiles.std + profiles.mean)[:, None].repeat(1, 5)
            for s in range(len(speakers))]
    assert [profiles.nearest(m) for m in mels] == [0] * len(speakers)
    assert profiles.nearest_relative(mels) == list(range(len(speakers)))
    same = [mels[0]] * len(speakers)  # an ignored embedding: nothing to credit, whatever the ties give
    assert profiles.nearest_relative(same) == [profiles.nearest_relative(same)[0]] * len(speakers)


@pytest.mark.parametrize("steps,prior_steps", [(100, 0), (100, 100), (100, 30)])
def test_prior_steps_outside_the_run_or_off_the_validation_grid_is_refused(tmp_path: Path, steps, prior_steps):
    with pytest.raises(ValueError, match="--prior-steps"):
        run_demo(tmp_path, steps=steps, val_every=50, prior_steps=prior_steps)


def test_hop_512_keeps_every_other_frame_and_equals_the_stft_at_hop_512(tmp_path: Path):
    """The demo's ``data.hop_length=512`` must be the real hop-512 Tacotron mel, not just fewer frames."""
    import torch

    from flowtron.config import DataConfig
    from flowtron.data import to_vocoder_frames
    from ninerepro.audio.io import load_wav
    from ninerepro.audio.mel import TacotronSTFT

    train = three_voice_corpus(tmp_path)
    path = read_flowtron_list(train)[0].path
    at_256, at_512 = load_mel(path, DataConfig()), load_mel(path, DataConfig(hop_length=512))
    wav, _ = load_wav(path, 22050)
    direct = TacotronSTFT(1024, 512, 1024, 80, 22050, 0.0, 8000.0).mel_spectrogram(torch.from_numpy(wav))
    direct = direct.reshape(80, -1)
    assert at_512.shape == direct.shape == (80, len(wav) // 512 + 1)
    torch.testing.assert_close(at_512, direct, atol=1e-4, rtol=0)
    torch.testing.assert_close(at_512, at_256[:, ::2])
    up = to_vocoder_frames(at_512, DataConfig(hop_length=512))
    assert up.shape == (80, 2 * at_512.shape[1] - 1)
    torch.testing.assert_close(up[:, ::2], at_512)
    assert to_vocoder_frames(at_256, DataConfig()) is at_256
    with pytest.raises(ValueError, match="multiple of 256"):
        load_mel(path, DataConfig(hop_length=300))


def test_the_demo_deviations_make_a_valid_one_flow_hop_512_config():
    from flowtron.demo import DEMO_OVERRIDES, TINY
    from ninerepro.train import load_config

    cfg = load_config(FlowtronConfig, TINY, list(DEMO_OVERRIDES))
    assert (cfg.model.n_flows, cfg.data.hop_length, cfg.data.p_arpabet) == (1, 512, 1.0)
    assert cfg.loss.use_ctc_loss and cfg.loss.ctc_loss_start_iter == 0


def test_attention_counts_as_formed_only_once_it_stays_diagonal(tmp_path: Path):
    import json

    from flowtron.demo import formed_steps

    def metrics(scores):
        rows = [{"step": 50 * (i + 1), "split": "val", "align_diagonal_flow0": a, "align_diagonal_flow1": b}
                for i, (a, b) in enumerate(scores)]
        path = tmp_path / "metrics.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in [{"step": 1, "split": "train"}, *rows]) + "\n")
        return path

    # mean over flows: 0.5, 0.85, 0.6, 0.82, 0.9 -> first reached at 100, stays from 200
    assert formed_steps(metrics([(0.5, 0.5), (0.9, 0.8), (0.6, 0.6), (0.84, 0.8), (0.9, 0.9)]), 2) == \
        {"first": 100, "stays": 200}
    assert formed_steps(metrics([(0.9, 0.9), (0.5, 0.5)]), 2) == {"first": 50, "stays": None}
    assert formed_steps(metrics([(0.5, 0.9), (0.6, 0.6)]), 1) == {"first": None, "stays": None}
