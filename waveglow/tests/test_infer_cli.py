"""The inference command: mel files, wavs and filelists in; one wav per input out; clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from ninerepro.audio import SampleRateError, save_wav, tacotron_mel
from ninerepro.data.filelists import DataFormatError
from ninerepro.train import load_config
from ninerepro.train.checkpoint import save_checkpoint
from ninerepro.train.config import to_dict
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


def test_every_item_of_a_padded_batch_equals_its_single_item_synthesis():
    from wg_testkit import randomised

    cfg = load_config(WaveGlowConfig, TINY, ["model.n_flows=4", "model.wn.n_layers=3", "model.wn.n_channels=8"])
    engine = randomised(cfg.model).for_inference()
    g = torch.Generator().manual_seed(3)
    mels = [torch.randn(80, n, generator=g) - 5 for n in (6, 16, 3, 11)]
    alone = synthesize(engine, mels, sigma=0.6, batch_size=1, generator=torch.Generator().manual_seed(7))
    together = synthesize(engine, mels, sigma=0.6, batch_size=4, generator=torch.Generator().manual_seed(7))
    for a, b in zip(alone, together):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)
    # without the mask the padding leaks into the shorter items (what this test guards against)
    mel = pad_batch(mels[:2]).unsqueeze(0)[0]
    z = torch.zeros(engine.noise_shape(2, mel.shape[2]))
    with torch.no_grad():
        leaky = engine.reverse(mel, z)[0, : 6 * HOP]
        masked = engine.reverse(mel, z, lengths=[6, 16])[0, : 6 * HOP]
        single = engine.reverse(mels[0].unsqueeze(0), torch.zeros(engine.noise_shape(1, 6)))[0]
    torch.testing.assert_close(masked, single, rtol=0, atol=1e-5)
    assert (leaky - single).abs().max() > 1e-3


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


def mel_file(folder: Path, name: str, frames: int = 10, n_mel: int = 80) -> Path:
    path = folder / name
    np.save(path, np.linspace(-10.0, 1.0, n_mel * frames, dtype=np.float32).reshape(n_mel, frames))
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_output_folder_is_checked_before_the_checkpoint_is_read(tmp_path, checkpoint, capsys, monkeypatch):
    (tmp_path / "taken").write_text("a file, not a folder")
    m = mel_file(tmp_path, "a.npy")
    calls = count_torch_loads(monkeypatch)
    assert main(["-c", str(checkpoint), "-f", str(m), "-o", str(tmp_path / "taken")]) == 2
    assert "exists and is not a folder" in one_line_error(capsys)
    assert calls == []


def test_each_wav_is_written_when_ready_and_a_failure_keeps_the_finished_ones(tmp_path, checkpoint, monkeypatch):
    from waveglow.inference_model import WaveGlowInference

    mels = [mel_file(tmp_path, f"{n}.npy", frames=f) for n, f in (("long", 20), ("short", 5))]
    real = WaveGlowInference.reverse
    seen = []

    def failing_second_batch(self, *args, **kwargs):
        seen.append(1)
        if len(seen) == 2:
            raise RuntimeError("simulated crash in the second batch")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WaveGlowInference, "reverse", failing_second_batch)
    out = tmp_path / "out"
    assert main(["-c", str(checkpoint), "-f", *map(str, mels), "-o", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["long.wav"]  # complete, and no temporary file left
    assert sf.info(str(out / "long.wav")).frames == 20 * HOP


def test_skip_existing_leaves_finished_outputs_alone_and_the_name_template_is_used(tmp_path, checkpoint):
    mels = [mel_file(tmp_path, f"{n}.npy") for n in ("a", "b")]
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_synthesis.wav").write_bytes(b"done before")
    assert main(["-c", str(checkpoint), "-f", *map(str, mels), "-o", str(out), "--skip-existing",
                 "--name-template", "{stem}_synthesis.wav"]) == 0
    assert (out / "a_synthesis.wav").read_bytes() == b"done before"
    assert sf.info(str(out / "b_synthesis.wav")).frames == 10 * HOP


def test_filelists_from_stdin_and_from_a_pipe_like_process_substitution(tmp_path, checkpoint, monkeypatch):
    import io
    import os
    import threading

    mels = [mel_file(tmp_path, f"{n}.npy") for n in ("p", "q")]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{mels[0]}\n"))
    assert main(["-c", str(checkpoint), "-f", "-", "-o", str(tmp_path / "stdin")]) == 0
    assert [p.name for p in (tmp_path / "stdin").iterdir()] == ["p.wav"]
    fifo = tmp_path / "fifo"  # what bash's <(ls *.npy) hands over: a pipe, not a regular file
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(f"{mels[0]}\n{mels[1]}\n"))
    writer.start()
    assert main(["-c", str(checkpoint), "-f", str(fifo), "-o", str(tmp_path / "pipe")]) == 0
    writer.join()
    assert sorted(p.name for p in (tmp_path / "pipe").iterdir()) == ["p.wav", "q.wav"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--name-template", "{name}.wav"], "--name-template"),
    (["--device", "cuda:7"] if not torch.cuda.is_available() else ["--sigma", "nan"], "GPU|sigma"),
    (["--mel-fmax", "20000"], "mel_fmax <= sampling_rate / 2"),
    (["--hop-length", "200"], "do not match this model's upsampler"),
])
def test_bad_options_are_one_line_errors_with_status_2(tmp_path, checkpoint, capsys, argv, message):
    m = mel_file(tmp_path, "a.npy")
    assert main(["-c", str(checkpoint), "-f", str(m), "-o", str(tmp_path / "o"), *argv]) == 2
    import re

    assert re.search(message, one_line_error(capsys))
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_traceback_instead(tmp_path, checkpoint):
    with pytest.raises(FileNotFoundError):
        main(["-c", str(checkpoint), "-f", str(tmp_path / "none.npy"), "-o", str(tmp_path / "o"), "--debug"])


def test_official_checkpoint_at_another_sample_rate_writes_that_rate_and_warns(tmp_path, caplog):
    import json

    official = Path(__file__).parent / "fixtures" / "official_tiny.pt"
    m = mel_file(tmp_path, "m.npy", n_mel=4)
    with caplog.at_level("WARNING"):
        assert main(["-c", str(official), "-f", str(m), "-o", str(tmp_path / "a"), "--sampling-rate", "16000",
                     "--mel-fmax", "7600"]) == 0
    assert sf.info(str(tmp_path / "a" / "m.wav")).samplerate == 16000
    assert "sampling_rate: 22050 -> 16000" in caplog.text and "mel_fmax: 8000.0 -> 7600" in caplog.text
    (tmp_path / "config.json").write_text(json.dumps({"data_config": {"sampling_rate": 24000, "mel_fmax": 12000.0}}))
    assert main(["-c", str(official), "-f", str(m), "-o", str(tmp_path / "b"), "--data-config",
                 str(tmp_path / "config.json")]) == 0
    assert sf.info(str(tmp_path / "b" / "m.wav")).samplerate == 24000
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert main(["-c", str(official), "-f", str(m), "-o", str(tmp_path / "c")]) == 0
    assert "differ" not in caplog.text and sf.info(str(tmp_path / "c" / "m.wav")).samplerate == 22050
