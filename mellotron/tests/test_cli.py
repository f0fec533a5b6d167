"""mellotron-synthesize end to end on the official-format fixture (Griffin-Lim, so no vocoder file is needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from ml_testkit import FIXTURES, write_tone_corpus

from mellotron.cli import synthesize_main
from ninerepro.audio.io import save_wav

CKPT = str(FIXTURES / "official_tiny.pt")


@pytest.fixture
def hparams(tmp_path):
    path = tmp_path / "hp.json"
    official = json.loads((FIXTURES / "official_tiny_hparams.json").read_text())
    path.write_text(json.dumps(official | {"max_decoder_steps": 30}))
    return str(path)


def common(hparams: str, out) -> list[str]:
    return ["-c", CKPT, "--hparams", hparams, "-o", str(out), "--prenet-dropout", "off"]


def test_speak_with_a_style_token_writes_audio_and_an_alignment_png(tmp_path, hparams):
    out = tmp_path / "speak.wav"
    assert synthesize_main(["speak", *common(hparams, out), "--text", "Red boat.", "--speaker", "1",
                            "--style", "2"]) == 0
    wav, sr = sf.read(out)
    assert sr == 22050 and len(wav) > 0 and np.isfinite(wav).all()
    assert (tmp_path / "speak_alignment.png").is_file()


def test_transfer_keeps_the_source_length(tmp_path, hparams):
    write_tone_corpus(tmp_path / "c", n=3)
    source = tmp_path / "c" / "u1.wav"
    out = tmp_path / "transfer.wav"
    assert synthesize_main(["transfer", *common(hparams, out), "--source", str(source), "--source-text", "Blue moon.",
                            "--speaker", "2", "--pitch-median", "200"]) == 0
    src, _ = sf.read(source)
    got, _ = sf.read(out)
    assert abs(len(got) - len(src)) <= 256  # same number of mel frames: the rhythm is the source's


@pytest.mark.slow  # ~45 s on 2 busy cores: 516 frames for each of two parts
def test_sing_a_score(tmp_path, hparams):
    scores = sorted(FIXTURES.glob("*.musicxml"))
    if not scores:
        pytest.skip("no MusicXML fixture")
    out = tmp_path / "sing.wav"
    from mellotron.musicxml import read_score

    parts = list(read_score(scores[0], 120))
    speakers = ",".join(f"{p}={i % 3}" for i, p in enumerate(parts))
    assert synthesize_main(["sing", *common(hparams, out), "--score", str(scores[0]), "--bpm", "120",
                            "--speakers", speakers]) == 0
    assert sf.read(out)[0].size > 0


@pytest.mark.parametrize(("extra", "message"), [
    (["speak", "--text", "Hi.", "--speaker", "9"], "speaker id"),
    (["speak", "--text", "   ", "--speaker", "0"], "text is empty"),
    (["speak", "--text", "Hi \u4e2d.", "--speaker", "0"], "outside Mellotron's symbol table"),
    (["speak", "--text", "Hi.", "--speaker", "0", "--style", "WRONGRATE"], "16000 Hz but 22050 Hz"),
    (["speak", "--text", "Hi.", "--speaker", "0", "--style", "/no/such.wav"], "no such audio file"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, hparams, capsys, extra, message):
    wrong = tmp_path / "wrong.wav"
    save_wav(wrong, np.full(16000, 0.1, dtype=np.float32), 16000)
    extra = [str(wrong) if e == "WRONGRATE" else e for e in extra]
    with pytest.raises(SystemExit) as exc:
        synthesize_main([extra[0], *common(hparams, tmp_path / "x.wav"), *extra[1:]])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.wav").exists()
