"""The inference command: mel files, wavs and filelists in; one wav per input out; clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from repro.audio import SampleRateError, save_wav, tacotron_mel
from repro.data.filelists import DataFormatError
from repro.train import load_config
from repro.train.checkpoint import save_checkpoint
from repro.train.config import to_dict
from waveglow.checkpoint import load_checkpoint
from waveglow.config import WaveGlowConfig
from waveglow.infer import collect_inputs, expand_inputs, main, pad_batch, synthesize
from waveglow.model import WaveGlow

TINY = Path(__file__).parents[1] / "configs" / "tiny.json"
HOP = 256


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small randomly initialised model in our checkpoint format (non-zero end layers, so output is not 0)."""
    cfg = load_config(WaveGlowConfig, TINY, ["model.n_flows=2", "model.wn.n_layers=2", "model.wn.n_channels=8"])
    torch.manual_seed(0)
    model = WaveGlow(cfg.model)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.01)
    folder = tmp_path_factory.mktemp("ckpt")
    return save_checkpoint({"model": model.state_dict(), "config": to_dict(cfg)}, folder, step=1)


def wav_file(path: Path, seconds: float, sr: int = 22050) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    save_wav(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def test_mel_files_wavs_and_filelists_become_one_wav_each(tmp_path, checkpoint):
    mel = tacotron_mel(np.sin(np.arange(5000) / 10).astype(np.float32) * 0.3)  # [80, 20]
    np.save(tmp_path / "a.npy", mel)
    torch.save(torch.from_numpy(mel[:, :13]), tmp_path / "b.pt")
    clip = wav_file(tmp_path / "c.wav", 0.3)
    (tmp_path / "list.txt").write_text(f"{tmp_path / 'b.pt'}|text\n{clip}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["-c", str(checkpoint), "-f", str(tmp_path / "a.npy"), str(tmp_path / "list.txt"), "-o", str(out),
                 "--sigma", "0.6", "--batch-size", "2"]) == 0
    lengths = {p.stem: sf.info(str(p)).frames for p in out.glob("*.wav")}
    assert lengths == {"a": 20 * HOP, "b": 13 * HOP, "c": (1 + int(0.3 * 22050) // HOP) * HOP}
    assert all(sf.info(str(p)).subtype == "PCM_16" and sf.info(str(p)).samplerate == 22050 for p in out.glob("*.wav"))


def test_batched_synthesis_cuts_each_output_to_its_own_length_and_keeps_the_order(checkpoint):
    model = load_checkpoint(checkpoint)
    mels = [torch.randn(80, n) - 5 for n in (7, 15, 3)]
    batched = synthesize(model, mels, sigma=0.0, batch_size=3)
    assert [len(a) for a in batched] == [7 * HOP, 15 * HOP, 3 * HOP]
    single = synthesize(model, [mels[1]], sigma=0.0)[0]
    np.testing.assert_allclose(batched[1], single, atol=1e-5)  # the longest item sees no padding
    assert pad_batch(mels).shape == (3, 80, 15)


def test_empty_filelist_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"empty\.txt: the filelist is empty"):
        expand_inputs([tmp_path / "empty.txt"])


def test_mel_with_the_wrong_channel_count_is_refused_naming_the_file(tmp_path, checkpoint):
    model = load_checkpoint(checkpoint)
    np.save(tmp_path / "bad.npy", np.zeros((64, 10), dtype=np.float32))
    with pytest.raises(DataFormatError, match=r"bad\.npy: mel has shape \(64, 10\) but this model needs \[80,"):
        collect_inputs([tmp_path / "bad.npy"], model, WaveGlowConfig().data)
    np.save(tmp_path / "transposed.npy", np.zeros((10, 80), dtype=np.float32))
    with pytest.raises(DataFormatError, match="transposed"):
        collect_inputs([tmp_path / "transposed.npy"], model, WaveGlowConfig().data)


def test_wav_at_the_wrong_rate_is_refused_naming_the_file(tmp_path, checkpoint):
    model = load_checkpoint(checkpoint)
    clip = wav_file(tmp_path / "rate16k.wav", 0.3, sr=16000)
    with pytest.raises(SampleRateError, match=r"rate16k\.wav: sample rate is 16000 Hz but 22050 Hz is expected"):
        collect_inputs([clip], model, WaveGlowConfig().data)


def test_command_line_reports_bad_input_in_one_line(tmp_path, checkpoint, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((64, 10), dtype=np.float32))
    assert main(["-c", str(checkpoint), "-f", str(tmp_path / "bad.npy"), "-o", str(tmp_path / "o")]) == 2
    assert "bad.npy" in capsys.readouterr().err
    assert main(["-c", str(checkpoint), "-f", str(tmp_path / "bad.npy"), "-o", str(tmp_path / "o"),
                 "--sigma", "-1"]) == 2
    assert "--sigma must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_denoiser_option_changes_the_audio_but_not_its_length(tmp_path, checkpoint):
    np.save(tmp_path / "m.npy", np.full((80, 12), -4.0, dtype=np.float32))
    for strength, folder in (("0", "plain"), ("0.5", "denoised")):
        assert main(["-c", str(checkpoint), "-f", str(tmp_path / "m.npy"), "-o", str(tmp_path / folder),
                     "--sigma", "0", "--denoiser-strength", strength]) == 0
    plain, _ = sf.read(str(tmp_path / "plain" / "m.wav"))
    denoised, _ = sf.read(str(tmp_path / "denoised" / "m.wav"))
    assert len(plain) == len(denoised) == 12 * HOP
    assert not np.allclose(plain, denoised)


def count_torch_loads(monkeypatch) -> list[str]:
    """Every ``torch.load`` call from now on records the file it opened."""
    calls: list[str] = []
    real = torch.load

    def counting(f, *args, **kwargs):
        calls.append(str(f))
        return real(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting)
    return calls


def test_copy_synthesis_uses_the_checkpoints_data_settings_and_reads_the_file_once(tmp_path, monkeypatch):
    cfg = load_config(WaveGlowConfig, TINY, ["model.n_flows=2", "model.wn.n_layers=2", "model.wn.n_channels=8",
                                             "data.sampling_rate=16000"])
    torch.manual_seed(0)
    path = save_checkpoint({"model": WaveGlow(cfg.model).state_dict(), "config": to_dict(cfg)}, tmp_path, step=1)
    model, saved = load_checkpoint(path, with_config=True)
    assert saved == cfg and isinstance(model, WaveGlow)
    clip = wav_file(tmp_path / "at16k.wav", 0.3, sr=16000)  # refused at the official 22050 Hz
    calls = count_torch_loads(monkeypatch)
    assert main(["-c", str(path), "-f", str(clip), "-o", str(tmp_path / "out")]) == 0
    assert calls == [str(path)]
    assert sf.info(str(tmp_path / "out" / "at16k.wav")).samplerate == 16000


def test_official_checkpoint_comes_with_the_official_data_settings(monkeypatch):
    official = Path(__file__).parent / "fixtures" / "official_tiny.pt"
    calls = count_torch_loads(monkeypatch)
    model, cfg = load_checkpoint(official, with_config=True)
    assert len(calls) == 1  # the official pickle is read once, not again for the conversion
    assert cfg is not None and cfg.model == model.cfg
    assert cfg.data == WaveGlowConfig().data
