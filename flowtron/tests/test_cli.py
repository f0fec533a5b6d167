"""``flowtron-synthesize``: writes a wav from any checkpoint format; every user mistake is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
import soundfile as sf
import torch
from flowtron_testkit import tiny_model

from flowtron.cli import main
from flowtron.data import frame_cap
from ninerepro.train.checkpoint import FORMAT


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    torch.save({"state_dict": tiny_model().state_dict()}, path)
    return path


def test_synthesis_writes_a_peak_normalised_wav(ckpt, tmp_path, capsys):
    out = tmp_path / "a.wav"
    assert main(["-c", str(ckpt), "--text", "Hello there.", "-o", str(out), "--gate", "1", "--n-frames", "20",
                 "--attention-png", str(tmp_path / "att.png")]) == 0
    wav, sr = sf.read(out)
    assert sr == 22050 and len(wav) > 0 and abs(abs(wav).max() - 1.0) < 1e-3
    assert (tmp_path / "att_flow0.png").is_file() and (tmp_path / "att_flow1.png").is_file()
    assert "20 frames" in capsys.readouterr().out


def test_frame_cap_is_a_length_of_audio_per_symbol_whatever_the_hop():
    assert frame_cap(10, 256) == 80  # the maintainers' 8 frames per symbol at the official hop
    assert frame_cap(10, 512) == 40  # the same 93 ms of audio per symbol at hop 512
    assert frame_cap(5, 768) == 14  # 40 / 3, rounded up
    for bad in ((0, 256), (3, 300)):
        with pytest.raises(ValueError):
            frame_cap(*bad)


@pytest.mark.parametrize("hop", [256, 512])
def test_the_default_cap_follows_the_checkpoint_hop(tmp_path, capsys, hop):
    """A hop-512 checkpoint of ours gets the duration a hop-256 one gets, not twice it (the shared rule)."""
    model = tiny_model()
    path = tmp_path / f"hop{hop}.pt"
    torch.save({"format": FORMAT, "model": model.state_dict(),
                "config": {"model": {"n_speakers": 3}, "data": {"hop_length": hop}}}, path)
    out = tmp_path / "c.wav"
    assert main(["-c", str(path), "--text", "Hi.", "-o", str(out), "--gate", "1"]) == 0
    n_symbols = 3  # "hi." -> h, i, .
    assert f"{frame_cap(n_symbols, hop)} frames" in capsys.readouterr().out
    assert abs(sf.info(out).duration - 8 * n_symbols * 256 / 22050) < 0.05


def test_style_transfer_and_speaker_blending_run(ckpt, tmp_path):
    ref = tmp_path / "ref.wav"
    sf.write(ref, 0.1 * torch.randn(22050).numpy(), 22050)
    assert main(["-c", str(ckpt), "--text", "Hi.", "-o", str(tmp_path / "s.wav"), "--style-ref", str(ref),
                 "--style-text", "noise", "--blend-speaker", "2", "--n-frames", "10", "--gate", "1"]) == 0


@pytest.mark.parametrize("extra,message", [
    (["--speaker", "9"], "outside this model's table"),
    (["--sigma", "-1"], "sigma must be >= 0"),
    (["--text", "   "], "--text is empty"),
    (["--text", "日本"], "not in the 'flowtron' symbol table"),
    (["--speaker-id", "19"], "carries no speaker table"),
    (["--style-ref", "x.wav"], "give each reference clip its transcript"),
])
def test_bad_requests_are_one_line_with_exit_code_2(ckpt, tmp_path, capsys, extra, message):
    args = ["-c", str(ckpt), "--text", "Hello.", "-o", str(tmp_path / "b.wav"), *extra]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("flowtron-synthesize: error:")


def test_reference_audio_at_the_wrong_rate_is_named(ckpt, tmp_path, capsys):
    ref = tmp_path / "ref16k.wav"
    sf.write(ref, 0.1 * torch.randn(16000).numpy(), 16000)
    with pytest.raises(SystemExit):
        main(["-c", str(ckpt), "--text", "Hi.", "-o", str(tmp_path / "s.wav"), "--style-ref", str(ref),
              "--style-text", "noise"])
    err = capsys.readouterr().err
    assert "ref16k.wav" in err and "16000" in err


def test_an_existing_output_is_refused_and_a_missing_checkpoint_named(ckpt, tmp_path, capsys):
    out = tmp_path / "exists.wav"
    out.write_bytes(b"keep")
    with pytest.raises(SystemExit):
        main(["-c", str(ckpt), "--text", "Hi.", "-o", str(out)])
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep"
    with pytest.raises(SystemExit):
        main(["-c", str(tmp_path / "none.pt"), "--text", "Hi.", "-o", str(tmp_path / "x.wav")])
    assert "does not exist" in capsys.readouterr().err


def test_the_console_script_module_runs():
    done = subprocess.run([sys.executable, "-m", "flowtron.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--sigma" in done.stdout
