"""End to end on the synthetic corpora: synth -> prepare -> read the filelists/manifests back."""

from __future__ import annotations

import hashlib

import pytest
import soundfile as sf

from ninerepro.data.datasets.libritts import read_libritts
from ninerepro.data.filelists import FLOWTRON_FIELDS, TACOTRON_FIELDS, read_filelist
from ninerepro.data.manifests import ASR_KEYS, KWS_KEYS, read_manifest
from ninerepro.data.prepare import main as prepare_main
from ninerepro.data.prepare import parse_args, run
from ninerepro.data.synth.cli import build

N = 10


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    root = base / "data"
    for kind in ("ljspeech", "libritts", "librispeech", "speech-commands"):
        source = build(kind, base / "synth" / kind, N, seed=2, workers=2)
        assert prepare_main([kind, "--root", str(root), "--source", str(source), "--min-speaker-minutes", "0"]) == 0
    return base, root


def test_ljspeech_filelists_cover_every_clip_once(prepared):
    _, root = prepared
    paths = []
    for split in ("train", "val", "test"):
        taco = read_filelist(root / f"filelists/ljs_audio_text_{split}_filelist.txt", TACOTRON_FIELDS, check_audio=True)
        flow = read_filelist(root / f"filelists/ljs_audiopaths_text_sid_{split}_filelist.txt", FLOWTRON_FIELDS)
        assert [e.path for e in taco] == [e.path for e in flow] and {e.speaker for e in flow} == {"0"}
        paths += [e.path for e in taco]
    assert len(paths) == len(set(paths)) == N


def test_libritts_is_resampled_to_22050_and_val_speakers_appear_in_train(prepared):
    base, root = prepared
    name = "filelists/libritts_train_clean_100_audiopath_text_sid_{}_filelist.txt"
    train = read_filelist(root / name.format("train"), FLOWTRON_FIELDS, check_audio=True)
    val = read_filelist(root / name.format("val"), FLOWTRON_FIELDS, check_audio=True)
    assert len(train) + len(val) == len(read_libritts(base / "synth/libritts", ["train-clean-100"]))
    assert {e.speaker for e in val} <= {e.speaker for e in train}
    for entry in train + val:
        assert "LibriTTS_22k" in entry.path and sf.info(entry.path).samplerate == 22050


def test_librispeech_manifests_have_durations_matching_the_audio(prepared):
    _, root = prepared
    records = read_manifest(root / "manifests/librispeech_train-clean-100.jsonl", ASR_KEYS, check_audio=True)
    assert len(records) == 8
    for record in records:
        assert record["duration"] == pytest.approx(sf.info(record["audio_filepath"]).duration, abs=1e-3)
    assert len(read_manifest(root / "manifests/librispeech_test-clean.jsonl", ASR_KEYS)) == 1


def test_speech_commands_manifests_split_all_clips(prepared):
    _, root = prepared
    splits = {s: read_manifest(root / f"manifests/speech_commands_{s}.jsonl", KWS_KEYS, check_audio=True)
              for s in ("train", "validation", "test")}
    assert sum(len(r) for r in splits.values()) == N and all(splits.values())
    assert all(r["duration"] == 1.0 for rs in splits.values() for r in rs)


def test_preparing_again_reproduces_the_same_files(prepared):
    base, root = prepared
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "filelists").iterdir()}
    prepare_main(["libritts", "--root", str(root), "--source", str(base / "synth/libritts"),
                  "--min-speaker-minutes", "0"])
    prepare_main(["ljspeech", "--root", str(root), "--source", str(base / "synth/ljspeech")])
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "filelists").iterdir()}


def test_libritts_speaker_filter_that_removes_everything_says_how_to_fix_it(prepared):
    base, root = prepared
    with pytest.raises(ValueError, match="lower --min-speaker-minutes"):
        run(parse_args(["libritts", "--root", str(root), "--source", str(base / "synth/libritts")]))
