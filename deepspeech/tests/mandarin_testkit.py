"""Test helpers for the Mandarin code: an AISHELL-1 release in its exact layout, built in a temp folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import soundfile as sf
from ds_testkit import tone_utterance

FIXTURE = Path(__file__).parent / "fixtures" / "aishell" / "aishell_transcript_v0.8.txt"
SPLIT_OF = {"S0002": "train", "S0003": "train", "S0724": "dev", "S0764": "test"}
MISSING_AUDIO = "BAC009S0764W0199"
UNTRANSCRIBED = "BAC009S0003W0999"


def fixture_lines() -> dict[str, str]:
    return dict(line.split(" ", 1) for line in FIXTURE.read_text(encoding="utf-8").splitlines())


def _wav_bytes(text: str, seed: int, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone_utterance(text.replace(" ", ""), seed, sr), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_release(folder: Path, bad_rate_utt: str | None = None) -> Path:
    """``folder/data_aishell.tgz`` as OpenSLR ships it: per-speaker tar.gz files plus the transcript file."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = fixture_lines()
    utts: dict[str, list[tuple[str, str]]] = {}
    for utt, words in lines.items():
        if utt != MISSING_AUDIO:
            utts.setdefault(utt[6:11], []).append((utt, words))
    utts["S0003"].append((UNTRANSCRIBED, "没有 文本"))
    release = folder / "data_aishell.tgz"
    with tarfile.open(release, "w:gz") as outer:
        _add(outer, "data_aishell/transcript/aishell_transcript_v0.8.txt", FIXTURE.read_bytes())
        for speaker, items in sorted(utts.items()):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as inner:
                for i, (utt, words) in enumerate(items):
                    sr = 8000 if utt == bad_rate_utt else 16000
                    _add(inner, f"{SPLIT_OF[speaker]}/{speaker}/{utt}.wav", _wav_bytes(words, i, sr))
            _add(outer, f"data_aishell/wav/{speaker}.tar.gz", buf.getvalue())
    return release
