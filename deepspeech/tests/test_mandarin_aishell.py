"""AISHELL-1 preparation on a release-layout fixture: download (resumed, md5), unpack, split, join, bad input."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
from mandarin_testkit import MISSING_AUDIO, SPLIT_OF, UNTRANSCRIBED, fixture_lines, make_release

from deepspeech.mandarin.aishell import main, prepare_aishell, unpack_speakers
from deepspeech.mandarin.text import load_vocab, normalize_cmn


class FlakyServer:
    """Serves one file with Range support; the first response stops halfway (a dropped connection)."""

    def __init__(self, payload: bytes) -> None:
        self.payload, self.requests = payload, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                start = int(self.headers.get("Range", "bytes=0-")[6:].split("-")[0])
                outer.requests.append(start)
                body = outer.payload[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if len(outer.requests) == 1 else body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data_aishell.tgz"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_make_data_aishell_downloads_resumes_checks_md5_and_writes_the_official_split(tmp_path, capsys):
    release = make_release(tmp_path / "release")
    server = FlakyServer(release.read_bytes())
    try:
        md5 = hashlib.md5(release.read_bytes()).hexdigest()
        assert main(["--root", str(tmp_path / "data"), "--url", server.url, "--md5", md5]) == 0
    finally:
        server.close()
    assert len(server.requests) == 2 and server.requests[1] > 0  # the second request resumed the .part file
    data = tmp_path / "data"
    assert not list((data / "data_aishell" / "wav").glob("*.tar.gz"))  # speaker archives unpacked and removed
    lines = fixture_lines()
    for split in ("train", "dev", "test"):
        records = _records(data / "manifests" / f"aishell_{split}.jsonl")
        assert {r["speaker"] for r in records} == {s for s, sp in SPLIT_OF.items() if sp == split}
        for r in records:  # joined by utterance id; the audio path is the release layout
            assert r["words"] == lines[r["id"]] and r["text"] == normalize_cmn(lines[r["id"]])
            assert Path(r["audio_filepath"]).parts[-3:] == (split, r["speaker"], f"{r['id']}.wav")
            assert r["duration"] > 0
    ids = {r["id"] for s in ("train", "dev", "test") for r in _records(data / "manifests" / f"aishell_{s}.jsonl")}
    assert ids == set(lines) - {MISSING_AUDIO} and UNTRANSCRIBED not in ids
    vocab = load_vocab(data / "manifests" / "aishell_vocab.txt")
    train_text = "".join(r["text"] for r in _records(data / "manifests" / "aishell_train.jsonl"))
    assert set(vocab.characters) == set(train_text)  # built from the training transcripts only
    # a rerun does nothing new: no download, the unpacked corpus is reused
    assert main(["--root", str(data), "--url", "http://127.0.0.1:9/unreachable", "--md5", md5]) == 0


def test_a_wrong_md5_is_one_line_and_leaves_no_archive(tmp_path, capsys):
    release = make_release(tmp_path / "release")
    server = FlakyServer(release.read_bytes())
    server.requests.append(0)  # no dropped connection this time
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--root", str(tmp_path / "data"), "--url", server.url, "--md5", "0" * 32])
    finally:
        server.close()
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]  # (tqdm bars aside)
    assert exit_info.value.code == 2 and len(errors) == 1 and "md5 mismatch" in errors[0]
    assert not list((tmp_path / "data" / "downloads").glob("data_aishell.tgz*"))


def test_unpacking_resumes_after_an_interrupted_run(tmp_path):
    release = make_release(tmp_path / "release")
    shutil.unpack_archive(release, tmp_path / "x")
    corpus = tmp_path / "x" / "data_aishell"
    wav = corpus / "wav"
    (wav / ".unpack-S0002").mkdir()  # a half-unpacked speaker left by a crash
    (wav / "train" / "S0003").mkdir(parents=True)  # renamed into place but its archive not yet deleted
    assert unpack_speakers(corpus) == 4
    assert sorted(p.name for p in (wav / "train").iterdir()) == ["S0002", "S0003"]
    assert len(list((wav / "train" / "S0003").glob("*.wav"))) == 4
    assert unpack_speakers(corpus) == 0


def test_audio_at_the_wrong_rate_is_one_line_naming_the_file(tmp_path, capsys):
    release = make_release(tmp_path / "release", bad_rate_utt="BAC009S0724W0122")
    shutil.unpack_archive(release, tmp_path / "x")
    with pytest.raises(SystemExit) as exit_info:
        main(["--root", str(tmp_path / "data"), "--source", str(tmp_path / "x" / "data_aishell")])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert exit_info.value.code == 2 and len(errors) == 1
    assert "BAC009S0724W0122.wav: 8000 Hz" in errors[0] and "16 kHz" in errors[0]


def test_a_folder_that_is_not_the_release_is_named(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path), "--source", str(tmp_path / "empty")])
    assert "not an extracted data_aishell folder" in capsys.readouterr().err


def test_prepare_refuses_a_speaker_in_two_splits(tmp_path):
    release = make_release(tmp_path / "release")
    shutil.unpack_archive(release, tmp_path / "x")
    corpus = tmp_path / "x" / "data_aishell"
    unpack_speakers(corpus)
    shutil.copytree(corpus / "wav" / "test" / "S0764", corpus / "wav" / "dev" / "S0764")
    with pytest.raises(ValueError, match="S0764 is in both dev and test"):
        prepare_aishell(corpus, tmp_path / "m")
