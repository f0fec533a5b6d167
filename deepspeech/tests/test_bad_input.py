"""Bad input fails early with a message naming the file/line and the fix."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from ds_testkit import tone_utterance, write_corpus

from deepspeech.config import FeatureConfig
from deepspeech.data import SpeechDataset, load_utterances
from deepspeech.features import prepare_audio
from ninerepro.audio import AudioFileError, SampleRateError
from ninerepro.data.filelists import DataFormatError
from ninerepro.text.ctc import CharVocab

VOCAB = CharVocab.english()


def test_audio_at_the_wrong_sample_rate_is_refused_unless_resampling_is_asked_for():
    wav = tone_utterance("ab", 0)[::2].copy()  # 8 kHz worth of samples
    with pytest.raises(SampleRateError, match="8000 Hz but the model expects 16000 Hz"):
        prepare_audio(wav, 8000, FeatureConfig(), "clip.wav")
    out = prepare_audio(wav, 8000, FeatureConfig(), "clip.wav", allow_resample=True)
    assert abs(len(out) - 2 * len(wav)) <= 2


@pytest.mark.parametrize("wav, message", [
    (np.zeros(10, dtype=np.float32), "too short"),
    (np.zeros(4000, dtype=np.int16), "float samples"),
    (np.full(4000, np.nan, dtype=np.float32), "NaN"),
    (np.zeros((4000, 2), dtype=np.float32), "mono"),
])
def test_unusable_arrays_are_named_in_the_error(wav, message):
    with pytest.raises(ValueError, match=message):
        prepare_audio(wav, 16000, FeatureConfig(), "request 7")


def _manifest(tmp_path, records):
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_an_empty_transcript_is_reported_with_its_manifest_line(tmp_path):
    path = _manifest(tmp_path, [{"audio_filepath": "a.wav", "duration": 1.0, "text": "ab"},
                                {"audio_filepath": "b.wav", "duration": 1.0, "text": "  "}])
    with pytest.raises(DataFormatError, match=r"m.jsonl:2"):
        load_utterances(path, VOCAB, 50.0)


def test_characters_outside_the_vocabulary_are_reported_with_the_line_and_characters(tmp_path):
    path = _manifest(tmp_path, [{"audio_filepath": "a.wav", "duration": 3.0, "text": "CAFE NUMBER 42!"}])
    with pytest.raises(DataFormatError, match=r"m.jsonl:1.*\['!', '2', '4'\]"):
        load_utterances(path, VOCAB, 50.0)


def test_audio_shorter_than_its_label_is_skipped_and_logged(tmp_path, caplog):
    path = _manifest(tmp_path, [{"audio_filepath": "a.wav", "duration": 3.0, "text": "ab"},
                                {"audio_filepath": "b.wav", "duration": 0.05, "text": "a long sentence"}])
    with caplog.at_level(logging.WARNING):
        utts = load_utterances(path, VOCAB, 50.0)
    assert [u.text for u in utts] == ["ab"]
    assert "too short for their transcript" in caplog.text and "m.jsonl:2" in caplog.text


def test_corrupt_audio_names_the_manifest_line(tmp_path):
    manifest = write_corpus(tmp_path, ["ab", "ba"])
    (tmp_path / "utt1.wav").write_bytes(b"RIFF not really a wav")
    ds = SpeechDataset(load_utterances(manifest, VOCAB, 50.0), FeatureConfig(), "ds2")
    ds[0]
    with pytest.raises(AudioFileError, match=r"train.jsonl:2"):
        ds[1]


def test_a_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ninerepro\.data\.prepare"):
        load_utterances(tmp_path / "nope.jsonl", VOCAB, 50.0)
