"""The crop dataset: shapes, mel equal to ninerepro.audio's, deterministic crops, padding, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ninerepro.audio import SampleRateError, save_wav, tacotron_mel
from ninerepro.data.filelists import DataFormatError
from ninerepro.train import load_config
from waveglow.config import WaveGlowConfig
from waveglow.data import (
    EpochTaggedBatchSampler,
    MelAudioCrops,
    check_sample_rates,
    read_audio_list,
    train_loader,
    val_loader,
)

TINY = Path(__file__).parents[1] / "configs" / "tiny.json"
SR = 22050


def make_clips(folder: Path, seconds: list[float], sr: int = SR) -> list[Path]:
    """Chirps of the given lengths (distinct content per clip, so crops can be told apart)."""
    paths = []
    for i, sec in enumerate(seconds):
        t = np.arange(int(sec * sr)) / sr
        noise = 0.01 * np.random.default_rng(i).normal(size=len(t))
        wav = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t * (1 + t)) + noise
        path = folder / f"clip{i}.wav"
        save_wav(path, wav.astype(np.float32), sr)
        paths.append(path)
    return paths


def write_list(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def cfg() -> WaveGlowConfig:
    return load_config(WaveGlowConfig, TINY)


def test_filelist_accepts_tacotron_lines_and_bare_paths(tmp_path):
    a, b = make_clips(tmp_path, [0.5, 0.5])
    listed = read_audio_list(write_list(tmp_path / "l.txt", [f"{a}|some text", str(b)]))
    assert listed == [a, b]


def test_filelist_errors_name_the_file_and_line(tmp_path):
    (a,) = make_clips(tmp_path, [0.5])
    with pytest.raises(DataFormatError, match=r"l\.txt:2: audio file .*missing\.wav does not exist"):
        read_audio_list(write_list(tmp_path / "l.txt", [str(a), str(tmp_path / "missing.wav")]))
    with pytest.raises(DataFormatError, match="empty"):
        read_audio_list(write_list(tmp_path / "empty.txt", []))
    with pytest.raises(FileNotFoundError, match=r"nope\.txt"):
        read_audio_list(tmp_path / "nope.txt")


def test_wrong_sample_rate_is_refused_naming_the_file(tmp_path, cfg):
    (bad,) = make_clips(tmp_path, [0.5], sr=16000)
    with pytest.raises(SampleRateError, match=r"clip0\.wav.*16000 Hz"):
        check_sample_rates([bad], 22050, "list.txt")
    ds = MelAudioCrops([bad], cfg.data, cfg.model)
    with pytest.raises(SampleRateError, match=r"clip0\.wav"):
        ds[0]


def test_crop_mel_equals_the_tacotron_mel_of_the_same_samples(tmp_path, cfg):
    (clip,) = make_clips(tmp_path, [1.0])
    mel, audio = MelAudioCrops([clip], cfg.data, cfg.model)[(0, 3)]
    seg = cfg.data.segment_length
    assert audio.shape == (seg,)
    assert mel.shape == (80, 1 + seg // 256)
    np.testing.assert_allclose(mel.numpy(), tacotron_mel(audio.numpy(), sr=SR), atol=1e-5)


def test_random_crops_are_reproducible_and_change_with_the_epoch(tmp_path, cfg):
    (clip,) = make_clips(tmp_path, [2.0])
    ds = MelAudioCrops([clip], cfg.data, cfg.model, seed=7)
    again = MelAudioCrops([clip], cfg.data, cfg.model, seed=7)
    assert torch.equal(ds[(0, 0)][1], again[(0, 0)][1])
    starts = {ds.crop_start((0, epoch), 2 * SR) for epoch in range(8)}
    assert len(starts) > 1
    assert ds.crop_start(0, 2 * SR) == ds.crop_start(0, 2 * SR) == (2 * SR - cfg.data.segment_length) // 2


def test_short_clips_are_zero_padded_at_the_end(tmp_path, cfg):
    (clip,) = make_clips(tmp_path, [0.05])  # 1102 samples, shorter than the crop
    assert cfg.data.segment_length > 1102
    _, audio = MelAudioCrops([clip], cfg.data, cfg.model)[(0, 0)]
    assert audio.shape == (cfg.data.segment_length,)
    assert audio[:1102].abs().sum() > 0 and torch.all(audio[1102:] == 0)


def test_mel_settings_that_break_the_model_are_refused(tmp_path, cfg):
    (clip,) = make_clips(tmp_path, [0.5])
    cfg.data.segment_length = 4100
    with pytest.raises(ValueError, match=r"segment_length=4100 is not a multiple of model\.n_group"):
        MelAudioCrops([clip], cfg.data, cfg.model)
    cfg.data.segment_length = 4096  # valid again: the next check is the one that fails
    cfg.data.mel_fmax = 12000.0
    with pytest.raises(ValueError, match="mel_fmax"):
        MelAudioCrops([clip], cfg.data, cfg.model)


def test_loaders_batch_crops_and_tag_them_with_the_epoch(tmp_path, cfg):
    clips = make_clips(tmp_path, [0.5, 0.7, 0.9, 1.1, 1.3])
    ds = MelAudioCrops(clips, cfg.data, cfg.model)
    loader = train_loader(ds, batch_size=2, seed=1)
    sampler = loader.batch_sampler
    assert isinstance(sampler, EpochTaggedBatchSampler)
    sampler.set_epoch(4)
    assert all(epoch == 4 for batch in sampler for _, epoch in batch)
    mel, audio = next(iter(loader))
    seg = cfg.data.segment_length
    assert mel.shape == (2, 80, 1 + seg // 256) and audio.shape == (2, seg)
    val = [a for _, a in val_loader(ds, batch_size=2)]
    assert sum(len(a) for a in val) == 5
    assert torch.equal(val[0], next(iter(val_loader(ds, batch_size=2)))[1])  # fixed crops


def test_two_ranks_see_disjoint_halves_of_each_global_batch(tmp_path, cfg):
    clips = make_clips(tmp_path, [0.3] * 8)
    ds = MelAudioCrops(clips, cfg.data, cfg.model)
    ranks = [list(train_loader(ds, 2, rank=r, world_size=2, seed=3).batch_sampler) for r in (0, 1)]
    for b0, b1 in zip(*ranks):
        assert not {i for i, _ in b0} & {i for i, _ in b1}
