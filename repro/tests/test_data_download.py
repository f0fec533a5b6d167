"""Downloader and extractor against a local HTTP server: resume after a dropped connection, checksum
failures that leave nothing behind, atomic and path-safe extraction, and `prepare` through a mirror."""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ninerepro.audio.io import save_wav
from ninerepro.data.datasets.download import ChecksumError, DownloadError, download
from ninerepro.data.datasets.extract import UnsafeArchiveError, extract
from ninerepro.data.filelists import FLOWTRON_FIELDS, read_filelist
from ninerepro.data.prepare import main as prepare_main
from ninerepro.data.prepare import parse_args, run

PAYLOAD = np.random.default_rng(0).bytes(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """A threaded HTTP server on 127.0.0.1 serving ``files``; it honours ``Range: bytes=N-`` and can cut
    the first ``drops`` responses off halfway (headers promise the full length, then the socket closes)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.drops = 0
        self.ranges: list[str | None] = []
        self.supports_range = True
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                header = self.headers.get("Range")
                server.ranges.append(header)
                start = int(re.fullmatch(r"bytes=(\d+)-", header).group(1)) if header and server.supports_range else 0
                if start >= len(body) and header:
                    self.send_error(416)
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if server.drops:
                    server.drops -= 1
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    srv.files["/data.bin"] = PAYLOAD
    yield srv
    srv.close()


def test_download_resumes_after_the_connection_drops_midway(server, tmp_path):
    server.drops = 1
    dest = download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA, retries=2)
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges == [None, f"bytes={len(PAYLOAD) // 2}-"]
    assert not (tmp_path / "data.bin.part").exists()


def test_interrupted_download_keeps_its_part_file_and_the_next_call_resumes(server, tmp_path):
    server.drops = 1
    with pytest.raises(DownloadError, match="rerun the same command to resume"):
        download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA, retries=0)
    assert (tmp_path / "data.bin.part").stat().st_size == len(PAYLOAD) // 2
    assert not (tmp_path / "data.bin").exists()
    download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA, retries=0)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert server.ranges[-1] == f"bytes={len(PAYLOAD) // 2}-"


def test_checksum_mismatch_names_file_and_digests_and_leaves_nothing(server, tmp_path):
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=wrong)
    message = str(info.value)
    assert "data.bin" in message and f"expected {wrong}" in message and f"got {SHA}" in message
    assert list(tmp_path.iterdir()) == []


def test_md5_is_accepted_as_the_checksum(server, tmp_path):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert download(f"{server.base}/data.bin", tmp_path / "d.bin", md5=md5).read_bytes() == PAYLOAD


def test_server_without_range_support_restarts_from_zero(server, tmp_path):
    server.supports_range = False
    (tmp_path / "data.bin.part").write_bytes(b"stale prefix")
    dest = download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA)
    assert dest.read_bytes() == PAYLOAD


def test_verified_existing_file_is_not_downloaded_again(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(PAYLOAD)
    download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA)
    assert server.ranges == []
    (tmp_path / "data.bin").write_bytes(PAYLOAD[:-1])
    with pytest.raises(ChecksumError, match="already present: delete it"):
        download(f"{server.base}/data.bin", tmp_path / "data.bin", sha256=SHA)


def test_http_error_is_reported_with_the_url(server, tmp_path):
    with pytest.raises(DownloadError, match=r"missing\.bin: HTTP 404"):
        download(f"{server.base}/missing.bin", tmp_path / "m.bin")


def make_tar(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_extract_installs_a_member_folder_and_its_top_level_files(tmp_path):
    archive = tmp_path / "dev-clean.tar.gz"
    archive.write_bytes(make_tar({"LibriSpeech/dev-clean/1/2/a.txt": b"a", "LibriSpeech/README.TXT": b"r"}))
    target = extract(archive, tmp_path / "data/LibriSpeech/dev-clean", "LibriSpeech/dev-clean")
    assert (target / "1/2/a.txt").read_bytes() == b"a"
    assert (tmp_path / "data/LibriSpeech/README.TXT").read_bytes() == b"r"
    assert sorted(p.name for p in (tmp_path / "data/LibriSpeech").iterdir()) == ["README.TXT", "dev-clean"]


def test_truncated_archive_leaves_no_target_and_no_temp_folder(tmp_path):
    archive = tmp_path / "a.tar.bz2"
    archive.write_bytes(make_tar({f"top/f{k}.bin": np.random.default_rng(k).bytes(50_000) for k in range(4)},
                                 "w:bz2")[:60_000])
    with pytest.raises((tarfile.TarError, EOFError, OSError, ValueError)):
        extract(archive, tmp_path / "out/top", "top")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_archive_member_escaping_the_target_is_refused_before_writing(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(make_tar({"ok.txt": b"fine", "../escaped.txt": b"bad"}))
    with pytest.raises(UnsafeArchiveError, match=r"\.\./escaped\.txt"):
        extract(archive, tmp_path / "out/target")
    zipped = tmp_path / "evil.zip"
    with zipfile.ZipFile(zipped, "w") as handle:
        handle.writestr("/etc/absolute.txt", b"bad")
    with pytest.raises(UnsafeArchiveError):
        extract(zipped, tmp_path / "out/target")
    assert not (tmp_path / "escaped.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_extract_refuses_an_existing_target(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("x.txt", b"x")
    (tmp_path / "t").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        extract(archive, tmp_path / "t")


def ljspeech_archive(tmp_path: Path) -> bytes:
    """A three-clip LJSpeech-1.1.tar.bz2 with the real layout (sine tones stand in for speech)."""
    root = tmp_path / "src/LJSpeech-1.1"
    lines = []
    for k in range(1, 4):
        t = np.arange(22050) / 22050
        save_wav(root / "wavs" / f"LJ001-{k:04d}.wav", (0.3 * np.sin(2 * np.pi * 220 * k * t)).astype(np.float32),
                 22050)
        lines.append(f"LJ001-{k:04d}|Clip {k}.|Clip number {k}.\n")
    (root / "metadata.csv").write_text("".join(lines), encoding="utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        tar.add(root, arcname="LJSpeech-1.1")
    return buffer.getvalue()


def test_prepare_downloads_through_a_mirror_and_writes_filelists(server, tmp_path):
    data = ljspeech_archive(tmp_path)
    server.files["/LJSpeech-1.1.tar.bz2"] = data
    server.drops = 1
    root = tmp_path / "data"
    args = ["ljspeech", "--root", str(root), "--mirror", server.base, "--sha256", hashlib.sha256(data).hexdigest()]
    assert prepare_main(args) == 0
    entries = read_filelist(root / "filelists/ljs_audiopaths_text_sid_train_filelist.txt", FLOWTRON_FIELDS,
                            check_audio=True)
    tests = read_filelist(root / "filelists/ljs_audio_text_test_filelist.txt", check_audio=True)
    assert len(entries) == 1 and len(tests) == 1 and entries[0].speaker == "0"
    assert not (root / "downloads/LJSpeech-1.1.tar.bz2").exists()  # archive removed after extraction


def test_prepare_with_a_bad_checksum_leaves_no_partial_dataset(server, tmp_path):
    server.files["/LJSpeech-1.1.tar.bz2"] = ljspeech_archive(tmp_path)
    root = tmp_path / "data"
    with pytest.raises(ChecksumError, match=re.escape("LJSpeech-1.1.tar.bz2: sha256 mismatch")):
        run(parse_args(["ljspeech", "--root", str(root), "--url", f"{server.base}/LJSpeech-1.1.tar.bz2"]))
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == ["downloads"]


def test_prepare_cli_reports_errors_in_one_line_with_exit_code_1(server, tmp_path, capsys):
    server.files["/LJSpeech-1.1.tar.bz2"] = b"not an archive"
    code = prepare_main(["ljspeech", "--root", str(tmp_path), "--url", f"{server.base}/LJSpeech-1.1.tar.bz2",
                         "--sha256", hashlib.sha256(b"not an archive").hexdigest()])
    assert code == 1
    assert "not a tar or zip archive" in capsys.readouterr().err
    assert not (tmp_path / "LJSpeech-1.1").exists()
