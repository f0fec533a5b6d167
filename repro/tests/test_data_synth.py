"""The synthetic corpora: real on-disk layouts, readable by the corpus readers, byte-identical per seed."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ninerepro.data.datasets.librispeech import read_librispeech
from ninerepro.data.datasets.libritts import read_libritts
from ninerepro.data.datasets.ljspeech import read_ljspeech_metadata
from ninerepro.data.datasets.speech_commands import BACKGROUND_DIR, read_speech_commands, which_set
from ninerepro.data.synth.cli import build, main
from ninerepro.data.synth.espeak import SynthJob, Voice, synthesise
from ninerepro.data.synth.text_source import librispeech_transcript, sentences

N = 6


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth")
    return {kind: build(kind, root / kind, N, seed=0, workers=2)
            for kind in ("ljspeech", "libritts", "librispeech", "speech-commands")}


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_ljspeech_synth_loads_with_the_ljspeech_reader(corpora):
    items = read_ljspeech_metadata(corpora["ljspeech"], check_audio=True)
    assert [i.utt_id for i in items] == [f"LJ001-{k:04d}" for k in range(1, N + 1)]
    for item in items:
        info = sf.info(str(item.audio_path))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert 0.5 < info.duration < 12
        assert item.text in sentences("train") or any(ch.isdigit() for ch in item.original_text)


def test_libritts_synth_has_real_layout_at_24khz(corpora):
    items = read_libritts(corpora["libritts"])
    assert len(items) == N
    assert {i.split for i in items} == {"train-clean-100", "dev-clean", "test-clean"}
    for item in items:
        assert re.fullmatch(r"\d+_\d+_\d{6}_\d{6}", item.utt_id)
        assert item.audio_path.parent.parent.name == item.speaker
        assert sf.info(str(item.audio_path)).samplerate == 24000
        tsv = item.audio_path.parent / f"{item.speaker}_{item.audio_path.parent.name}.trans.tsv"
        assert f"{item.utt_id}\t{item.original_text}\t{item.text}" in tsv.read_text(encoding="utf-8").splitlines()
    train_speakers = {i.speaker for i in items if i.split == "train-clean-100"}
    assert train_speakers.isdisjoint({i.speaker for i in items if i.split != "train-clean-100"})


def test_librispeech_synth_has_uppercase_transcripts_and_16khz_flac(corpora):
    items = read_librispeech(corpora["librispeech"], check_audio=True)
    assert len(items) == N
    for item in items:
        assert re.fullmatch(r"[A-Z' ]+", item.text)
        assert re.fullmatch(rf"{item.speaker}-\d+-\d{{4}}", item.utt_id)
        info = sf.info(str(item.audio_path))
        assert (info.format, info.samplerate) == ("FLAC", 16000)
    assert (corpora["librispeech"] / "SPEAKERS.TXT").is_file()


def test_dev_and_test_utterances_use_only_heldout_sentences(corpora):
    heldout = {librispeech_transcript(s) for s in sentences("heldout")}
    for item in read_librispeech(corpora["librispeech"]):
        assert (item.text in heldout) == (item.split != "train-clean-100")


def test_speech_commands_synth_follows_the_sha1_split_rule(corpora):
    root = corpora["speech-commands"]
    items = read_speech_commands(root)
    assert len(items) == N
    expected = {"training": "train", "validation": "validation", "testing": "test"}
    splits_by_speaker = defaultdict(set)
    for item in items:
        assert item.split == expected[which_set(item.audio_path.name)]
        splits_by_speaker[item.speaker].add(item.split)
        wav, sr = sf.read(str(item.audio_path))
        assert sr == 16000 and len(wav) <= 16000 and np.abs(wav).max() > 0.05
    assert {i.split for i in items} == {"train", "validation", "test"}
    assert all(len(s) == 1 for s in splits_by_speaker.values())
    noises = sorted(p.name for p in (root / BACKGROUND_DIR).glob("*.wav"))
    assert noises == ["babble.wav", "brown_noise.wav", "pink_noise.wav", "white_noise.wav"]


def test_pink_and_brown_noise_put_more_energy_in_low_frequencies(corpora):
    def low_share(name: str) -> float:
        wav, _ = sf.read(str(corpora["speech-commands"] / BACKGROUND_DIR / name))
        power = np.abs(np.fft.rfft(wav)) ** 2
        return power[: len(power) // 16].sum() / power.sum()  # share below 500 Hz

    white, pink, brown = (low_share(f"{c}_noise.wav") for c in ("white", "pink", "brown"))
    assert white < 0.1 < pink < brown


def test_same_seed_gives_byte_identical_corpora_whatever_the_worker_count(tmp_path, corpora):
    for kind in ("ljspeech", "speech-commands"):
        again = build(kind, tmp_path / kind, N, seed=0, workers=1)
        assert tree_digest(again) == tree_digest(corpora[kind])


def test_another_seed_gives_other_sentences(tmp_path, corpora):
    other = build("ljspeech", tmp_path / "lj", N, seed=1, workers=2)
    texts = {i.text for i in read_ljspeech_metadata(other)}
    assert texts != {i.text for i in read_ljspeech_metadata(corpora["ljspeech"])}


def test_espeak_output_does_not_depend_on_what_was_synthesised_before():
    a = SynthJob("Return the hash value of the object.", Voice("en-us"), seed=5)
    b = SynthJob("A different sentence with another voice.", Voice("en+f2", pitch=70), seed=9)
    first, _, second = synthesise([a, b, a], workers=1)
    assert first.dtype == np.int16 and len(first) > 22050 // 2
    np.testing.assert_array_equal(first, second)


def test_sentence_lists_are_disjoint_clean_ascii_prose():
    train, heldout = set(sentences("train")), set(sentences("heldout"))
    assert len(train) > 3000 and len(heldout) > 300
    assert not train & heldout
    for s in train | heldout:
        assert s.isascii() and s[0].isupper() and s[-1] in ".?!"
        assert "http" not in s and "_" not in s and "(" not in s


def test_existing_folder_is_not_overwritten_without_force(corpora):
    with pytest.raises(FileExistsError, match="--force"):
        build("ljspeech", corpora["ljspeech"], N, seed=0, workers=1)


def test_speech_commands_vocabulary_can_be_chosen_and_is_checked(tmp_path, capsys):
    out = build("speech-commands", tmp_path / "sc", 6, seed=0, workers=2, words=("yes", "no"))
    assert {i.text for i in read_speech_commands(out)} == {"yes", "no"}
    with pytest.raises(SystemExit):
        main(["ljspeech", "--out", str(tmp_path / "lj"), "--n", "4", "--words", "yes"])
    assert "--words applies to speech-commands only" in capsys.readouterr().err


@pytest.mark.parametrize("number", [0, 7, 13, 20, 21, 99, 100, 105, 999, 1001, 2822, 12345, 10**6, 1234567, 10**12 - 1])
def test_spelled_cardinals_agree_with_inflect(number):
    inflect = pytest.importorskip("inflect")
    from ninerepro.data.synth.text_source import spell_cardinal

    assert spell_cardinal(number) == inflect.engine().number_to_words(number, andword="").replace(",", "")


def test_fit_to_clip_places_the_word_whole_at_a_random_offset_in_a_clip_of_any_length():
    from ninerepro.data.synth.speech_commands import CLIP_SAMPLES, fit_to_clip

    word = np.ones(100, dtype=np.float32)
    assert fit_to_clip(word, np.random.default_rng(0)).shape == (CLIP_SAMPLES,)  # 1 s by default
    clip = fit_to_clip(word, np.random.default_rng(0), length=300, floor_rms=0.0)
    (inside,) = np.nonzero(clip)
    assert clip.shape == (300,) and len(inside) == 100 and inside[-1] - inside[0] == 99  # whole, contiguous
    offsets = {int(np.argmax(fit_to_clip(word, np.random.default_rng(s), length=300, floor_rms=0.0)))
               for s in range(20)}
    assert len(offsets) > 5 and max(offsets) <= 200
    long_word = np.arange(500, dtype=np.float32)
    np.testing.assert_array_equal(fit_to_clip(long_word, np.random.default_rng(0), 300, 0.0), long_word[100:400])
    with pytest.raises(ValueError, match="length must be >= 1"):
        fit_to_clip(word, np.random.default_rng(0), length=0)
