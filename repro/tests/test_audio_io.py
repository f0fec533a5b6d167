"""File I/O: round trips, the sample-rate contract and clear errors for bad files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ninerepro.audio import AudioFileError, SampleRateError, load_wav, resample, save_wav


def _tone(sr: int, seconds: float = 0.25, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_a_saved_file_loads_back_within_16_bit_quantisation(tmp_path, suffix):
    wav = _tone(22050)
    path = tmp_path / f"a{suffix}"
    save_wav(path, wav, 22050)
    back, sr = load_wav(path, sr=22050)
    assert sr == 22050 and back.dtype == np.float32 and back.shape == wav.shape
    assert np.max(np.abs(back - wav)) < 1.0 / 2**15 + 1e-7


def test_saving_clips_out_of_range_samples(tmp_path):
    save_wav(tmp_path / "c.wav", np.array([2.0, -3.0, 0.25], dtype=np.float32), 16000, subtype="FLOAT")
    back, _ = load_wav(tmp_path / "c.wav")
    np.testing.assert_allclose(back, [1.0, -1.0, 0.25])


def test_saving_leaves_no_temporary_files_behind(tmp_path):
    save_wav(tmp_path / "x.wav", _tone(16000), 16000)
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_a_file_at_the_wrong_rate_is_an_error_naming_file_both_rates_and_the_fix(tmp_path):
    path = tmp_path / "speech.wav"
    save_wav(path, _tone(16000), 16000)
    with pytest.raises(SampleRateError) as info:
        load_wav(path, sr=22050)
    message = str(info.value)
    assert str(path) in message and "16000" in message and "22050" in message
    assert "ninerepro.audio.resample" in message


def test_an_empty_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "empty.wav"
    import soundfile as sf

    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioFileError, match=r"empty\.wav.*0 samples"):
        load_wav(path)


def test_a_corrupt_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00not really a wave file at all" * 3)
    with pytest.raises(AudioFileError, match=r"broken\.wav.*cannot decode"):
        load_wav(path)


def test_a_missing_file_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(AudioFileError, match=r"nope\.wav"):
        load_wav(tmp_path / "nope.wav")


def test_stereo_is_averaged_to_mono_unless_asked_otherwise(tmp_path):
    stereo = np.stack([np.full(100, 0.5), np.full(100, -0.25)], axis=1).astype(np.float32)
    save_wav(tmp_path / "s.wav", stereo, 8000, subtype="FLOAT")
    mono, _ = load_wav(tmp_path / "s.wav")
    both, _ = load_wav(tmp_path / "s.wav", mono=False)
    np.testing.assert_allclose(mono, 0.125)
    assert both.shape == (100, 2)


def test_resampling_keeps_a_tone_and_changes_the_length_by_the_rate_ratio():
    wav = _tone(22050, seconds=1.0, freq=1000.0)
    out = resample(wav, 22050, 16000)
    assert out.dtype == np.float32 and abs(len(out) - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(out[2000:-2000] * np.hanning(len(out) - 4000)))
    peak_hz = np.argmax(spectrum) * 16000 / (len(out) - 4000)
    assert abs(peak_hz - 1000.0) < 2.0
    np.testing.assert_array_equal(out, resample(wav, 22050, 16000))


def test_resampling_rejects_a_nonsense_rate():
    with pytest.raises(ValueError, match="target_sr"):
        resample(np.zeros(10, dtype=np.float32), 16000, 0)


def test_the_resample_command_converts_a_file(tmp_path):
    src, dst = tmp_path / "in.flac", tmp_path / "out.wav"
    save_wav(src, _tone(16000), 16000)
    subprocess.run([sys.executable, "-m", "ninerepro.audio.resample", str(src), str(dst), "--sr", "22050"],
                   check=True, capture_output=True)
    wav, sr = load_wav(dst, sr=22050)
    assert sr == 22050 and abs(len(wav) - int(0.25 * 22050)) <= 1
