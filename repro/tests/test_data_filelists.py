"""Filelist, manifest and corpus readers: round trips, and bad lines reported with file and line number."""

from __future__ import annotations

import json
import re

import pytest

from ninerepro.data.datasets.librispeech import read_librispeech
from ninerepro.data.datasets.libritts import read_libritts
from ninerepro.data.datasets.ljspeech import read_ljspeech_metadata
from ninerepro.data.datasets.speech_commands import read_speech_commands, which_set
from ninerepro.data.filelists import FLOWTRON_FIELDS, DataFormatError, FilelistEntry, read_filelist, write_filelist
from ninerepro.data.manifests import ASR_KEYS, KWS_KEYS, read_manifest, write_manifest


def write_bytes(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_filelists_round_trip_with_and_without_speaker(tmp_path):
    taco = [FilelistEntry("wavs/a.wav", "Hello, world."), FilelistEntry("wavs/b.wav", "Ça va?")]
    flow = [FilelistEntry("wavs/a.wav", "Hello.", "0"), FilelistEntry("wavs/b.wav", "Bye.", "5808")]
    assert read_filelist(write_filelist(tmp_path / "t.txt", taco)) == taco
    assert read_filelist(write_filelist(tmp_path / "f.txt", flow), FLOWTRON_FIELDS) == flow


def test_non_utf8_transcript_line_names_file_and_line(tmp_path):
    path = write_bytes(tmp_path / "list.txt", b"a.wav|fine\nb.wav|caf\xe9 latin-1\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:2: not valid UTF-8")):
        read_filelist(path)


def test_filelist_line_with_missing_field_names_file_and_line(tmp_path):
    path = write_bytes(tmp_path / "list.txt", b"a.wav|one|0\n\nb.wav|two\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:3: expected 3 '|'-separated fields")):
        read_filelist(path, FLOWTRON_FIELDS)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"a.wav|  \n", "empty transcript"), (b"a.wav|hi|x\n", "not an integer"), (b"|hi|0\n", "empty audio path")],
)
def test_filelist_rejects_empty_text_bad_speaker_and_empty_path(tmp_path, content, message):
    path = write_bytes(tmp_path / "list.txt", content)
    fields = FLOWTRON_FIELDS if content.count(b"|") == 2 else ("path", "text")
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:1: ") + ".*" + message):
        read_filelist(path, fields)


def test_filelist_missing_audio_is_reported_only_when_checked(tmp_path):
    path = write_bytes(tmp_path / "list.txt", b"present.wav|hi\nabsent.wav|there\n")
    (tmp_path / "present.wav").write_bytes(b"")
    assert len(read_filelist(path)) == 2
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:2: audio file") + ".*absent.wav"):
        read_filelist(path, check_audio=True, audio_root=tmp_path)


def test_writer_refuses_a_pipe_inside_a_field(tmp_path):
    with pytest.raises(ValueError, match="'\\|'"):
        write_filelist(tmp_path / "x.txt", [FilelistEntry("a.wav", "left | right")])
    assert not (tmp_path / "x.txt").exists()


def test_manifest_round_trip_and_line_numbered_errors(tmp_path):
    records = [{"audio_filepath": "a.flac", "duration": 1.5, "text": "HELLO"}]
    assert read_manifest(write_manifest(tmp_path / "m.jsonl", records), ASR_KEYS) == records
    bad = {
        b'{"audio_filepath": "a.wav", "duration": 1.0}\n': "missing field(s) ['text']",
        b'{"audio_filepath": "a.wav", "duration": -1, "text": "x"}\n': "duration must be a positive",
        b'{"audio_filepath": "a.wav", "duration": 1.0, "text": " "}\n': "empty or non-string 'text'",
        b'{"audio_filepath": "a.wav", "duration": 1.0, "text": "x"\n': "not valid JSON",
    }
    good = (json.dumps(records[0]) + "\n").encode()
    for line, message in bad.items():
        path = write_bytes(tmp_path / "bad.jsonl", good + line)
        with pytest.raises(DataFormatError, match=re.escape(f"{path}:2: {message}")):
            read_manifest(path, ASR_KEYS)


def test_kws_manifest_needs_a_command_and_existing_audio(tmp_path):
    path = write_bytes(tmp_path / "kws.jsonl", b'{"audio_filepath": "yes/a.wav", "duration": 1.0, "command": "yes"}\n')
    assert read_manifest(path, KWS_KEYS)[0]["command"] == "yes"
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:1: audio file")):
        read_manifest(path, KWS_KEYS, check_audio=True)


def test_ljspeech_metadata_errors_name_the_line(tmp_path):
    write_bytes(tmp_path / "metadata.csv", b'LJ001-0001|Said "hi".|Said "hi".\nLJ001-0002|Only two fields\n')
    with pytest.raises(DataFormatError, match=re.escape(f"{tmp_path / 'metadata.csv'}:2: expected 3")):
        read_ljspeech_metadata(tmp_path)
    write_bytes(tmp_path / "metadata.csv", b"LJ001-0001|A|a\nLJ001-0001|B|b\n")
    with pytest.raises(DataFormatError, match=":2: clip id LJ001-0001 already used on line 1"):
        read_ljspeech_metadata(tmp_path)
    write_bytes(tmp_path / "metadata.csv", b"LJ001-0001|A|a\n")
    with pytest.raises(DataFormatError, match=r":1: audio file .*LJ001-0001\.wav is missing"):
        read_ljspeech_metadata(tmp_path, check_audio=True)


def test_librispeech_transcript_errors_name_the_line(tmp_path):
    trans = write_bytes(tmp_path / "train-clean-100/19/198/19-198.trans.txt", b"19-198-0000 HELLO\n19-198-0001\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{trans}:2: empty transcript for 19-198-0001")):
        read_librispeech(tmp_path)
    write_bytes(trans, b"19-198-0000 HELLO\n20-198-0001 WORLD\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{trans}:2: utterance id '20-198-0001'")):
        read_librispeech(tmp_path)
    write_bytes(trans, b"19-198-0000 HELLO\n19-198-0001 WORLD \xff\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{trans}:2: not valid UTF-8")):
        read_librispeech(tmp_path)


def test_libritts_missing_or_empty_transcript_is_named(tmp_path):
    folder = tmp_path / "train-clean-100/19/198"
    write_bytes(folder / "19_198_000000_000000.wav", b"")
    missing = re.escape("19_198_000000_000000.normalized.txt: normalised transcript file is missing")
    with pytest.raises(DataFormatError, match=missing):
        read_libritts(tmp_path)
    write_bytes(folder / "19_198_000000_000000.normalized.txt", b"")
    write_bytes(folder / "19_198_000000_000000.original.txt", b"Text.")
    with pytest.raises(DataFormatError, match=r"normalized.txt:1: empty normalised transcript"):
        read_libritts(tmp_path)


def test_speech_commands_list_naming_a_missing_clip_is_reported_with_its_line(tmp_path):
    write_bytes(tmp_path / "yes/abc_nohash_0.wav", b"")
    write_bytes(tmp_path / "validation_list.txt", b"yes/abc_nohash_0.wav\nno/zzz_nohash_0.wav\n")
    write_bytes(tmp_path / "testing_list.txt", b"")
    with pytest.raises(DataFormatError, match=re.escape(f"{tmp_path / 'validation_list.txt'}:2: listed clip")):
        read_speech_commands(tmp_path)


def test_sha1_split_rule_keeps_speakers_together_and_gives_about_ten_percent_each():
    names = [f"{k:08x}" for k in range(20000)]
    splits = [which_set(f"{name}_nohash_0.wav") for name in names]
    assert all(which_set(f"{name}_nohash_3.wav") == s for name, s in zip(names[:200], splits))
    for split, share in (("validation", 0.1), ("testing", 0.1), ("training", 0.8)):
        assert abs(splits.count(split) / len(names) - share) < 0.01


def test_corpus_readers_with_check_audio_reject_empty_audio_files(tmp_path):
    write_bytes(tmp_path / "yes/abc_nohash_0.wav", b"")
    write_bytes(tmp_path / "validation_list.txt", b"")
    write_bytes(tmp_path / "testing_list.txt", b"")
    assert len(read_speech_commands(tmp_path)) == 1
    with pytest.raises(DataFormatError, match=r"abc_nohash_0\.wav is unreadable"):
        read_speech_commands(tmp_path, check_audio=True)
