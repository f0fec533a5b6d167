"""The server and the load test with the real ``Transcriber`` on an untrained tiny DS2 checkpoint."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from deepspeech.config import DeepSpeechConfig
from deepspeech.features import make_vocab
from deepspeech.infer import Transcriber
from deepspeech.loadtest import main as loadtest_main
from deepspeech.model import build_model
from deepspeech.serving.httpd import ServeConfig, start_server
from deepspeech.serving.loadtest import synthetic_utterance
from ninerepro.train import load_config
from ninerepro.train.checkpoint import save_checkpoint
from ninerepro.train.config import to_dict

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.json"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained tiny DS2 saved in deepspeech-train's checkpoint format (enough to time and serve)."""
    torch.manual_seed(0)
    cfg = load_config(DeepSpeechConfig, TINY)
    model = build_model(cfg, len(make_vocab(cfg.model.vocab)))
    return save_checkpoint({"config": to_dict(cfg), "model": model.state_dict()},
                           tmp_path_factory.mktemp("run"), step=0)


def wav_bytes(wav: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wav, 16000, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def post(url: str, wav: np.ndarray) -> dict:
    request = urllib.request.Request(url + "/transcribe", data=wav_bytes(wav),
                                     headers={"Content-Type": "audio/wav"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_served_text_equals_the_transcribers_own_answer_for_the_same_audio(checkpoint):
    transcriber = Transcriber.from_checkpoint(checkpoint, "cpu")
    wavs = [synthetic_utterance(0.6, seed=1), synthetic_utterance(0.9, seed=2)]
    # the wire format is 16-bit: compare with the transcriber run on the same quantised samples
    quantised = [sf.read(io.BytesIO(wav_bytes(w)), dtype="float32")[0] for w in wavs]
    expected = [transcriber.transcribe_batch([q])[0] for q in quantised]
    with start_server(transcriber.transcribe_batch, ServeConfig(port=0)) as handle:
        answers = [post(handle.url, w) for w in wavs]
    assert [a["text"] for a in answers] == expected
    assert all(a["batch_size"] == 1 and a["latency_ms"] > 0 for a in answers)


def test_the_loadtest_command_writes_a_table_for_both_modes(checkpoint, tmp_path, capsys):
    out = tmp_path / "loadtest.md"
    loadtest_main(["--checkpoint", str(checkpoint), "--device", "cpu", "--requests", "4", "--duration", "20",
                   "--streams", "1,4", "--audio-seconds", "0.5", "--out", str(out)])
    text = out.read_text()
    assert "| batched | 4 | 4 | 0 |" in text and "| unbatched | 1 | 4 | 0 |" in text
    assert "Throughput batched / unbatched: 1 streams" in text
    assert text in capsys.readouterr().out


@pytest.mark.slow  # a fresh interpreter imports torch and ninerepro.text (inflect): 10-40 s on a busy 2-core box
def test_the_serve_command_answers_and_shuts_down_cleanly_on_sigterm(checkpoint):
    proc = subprocess.Popen([sys.executable, "-c", "from deepspeech.serving.server import main; main()",
                             "--checkpoint", str(checkpoint), "--device", "cpu", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert url, banner + proc.stderr.read()
        assert "text" in post(url.group(1), synthetic_utterance(0.5))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "shutting down" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
