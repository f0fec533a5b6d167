"""Chunked transcription of long audio: frame-exact stitching, transcripts of concatenated clips, bounded memory.

The model is ``fixtures/tone_tiny.pt`` (a tiny bidirectional DS2 trained on tone 'speech', see
fixtures/README.md), so transcripts are real text, not the blanks of an untrained model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ds_testkit import tone_utterance
from stream_testkit import tone_texts, train_tone_model

from deepspeech.cli import transcribe_main
from deepspeech.infer import Transcriber
from deepspeech.streaming import frame_samples, stream_log_probs, transcribe_long
from ninerepro.audio import save_wav
from ninerepro.metrics import cer

FIXTURES = Path(__file__).parent / "fixtures"
SR = 16000


@pytest.fixture(scope="module")
def tone() -> Transcriber:
    return Transcriber.from_checkpoint(FIXTURES / "tone_tiny.pt")


def _clips(n: int, seed: int) -> tuple[list[str], list[np.ndarray]]:
    texts = tone_texts(n, seed)
    return texts, [tone_utterance(t, 100 + i) for i, t in enumerate(texts)]


def _long(clips: list[np.ndarray], gap_s: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(5)
    gap = lambda: (0.01 * rng.standard_normal(int(gap_s * SR))).astype(np.float32)  # noqa: E731
    return np.concatenate([piece for clip in clips for piece in (clip, gap())])


def _blocks(wav: np.ndarray, size: int = 4000):
    return (wav[i: i + size] for i in range(0, len(wav), size))


def test_stitched_chunks_have_exactly_the_frames_of_a_whole_file_pass(tone):
    _, clips = _clips(6, seed=3)
    wav = _long(clips)[: 4 * SR + 1234]  # not a multiple of any chunk or frame
    whole = tone.posteriors([wav])[0]
    one_chunk = np.concatenate(list(stream_log_probs(tone, _blocks(wav), SR, chunk_s=60.0, context_s=1.0)))
    assert one_chunk.shape == whole.shape and np.abs(one_chunk - whole).max() < 1e-5
    for chunk_s, context_s in ((1.0, 0.5), (1.5, 0.02)):
        pieces = list(stream_log_probs(tone, _blocks(wav), SR, chunk_s=chunk_s, context_s=context_s))
        stitched = np.concatenate(pieces)
        assert stitched.shape == whole.shape, (chunk_s, context_s)
        core, context = round(chunk_s * SR / 320) * 320, max(1, round(context_s * SR / 320)) * 320
        assert len(pieces) == int(np.ceil((len(wav) - context) / core))  # a tail within the context joins the last
        agree = (stitched.argmax(-1) == whole.argmax(-1)).mean()
        assert agree >= (0.97 if context_s >= 0.5 else 0.85), (chunk_s, context_s, agree)


def test_a_long_file_of_concatenated_clips_reads_as_its_clips_with_bounded_memory(tone, tmp_path):
    texts, clips = _clips(10, seed=1)  # held-out phrases (the model was trained on seed 0's)
    per_clip = [tone.transcribe_batch([clip])[0] for clip in clips]
    assert cer(texts, per_clip) < 0.15  # the model really transcribes: the comparison below is not vacuous
    wav = _long(clips)
    save_wav(tmp_path / "long.wav", wav, SR)
    result = transcribe_long(tone, tmp_path / "long.wav", chunk_s=1.5, context_s=0.5)
    assert result.seconds == pytest.approx(len(wav) / SR)
    assert cer(" ".join(per_clip), result.text) <= 0.05, (" ".join(per_clip), result.text)
    window = (1.5 + 2 * 0.5) * SR + frame_samples(tone)
    assert result.stats.max_window_samples <= window < len(wav) / 4  # the model never saw more than a window
    assert result.stats.max_buffer_samples <= window + SR  # ... nor was more audio held (one 1 s block extra)
    assert result.stats.frames == (len(wav) // 160) // 2 + 1  # a whole-file pass's frame count


def test_memory_does_not_grow_with_the_length_of_the_audio(tone):
    rng = np.random.default_rng(0)
    stats = []
    for seconds in (4, 12):
        wav = (0.05 * rng.standard_normal(seconds * SR)).astype(np.float32)
        stats.append(transcribe_long(tone, wav, SR, chunk_s=1.0, context_s=0.25).stats)
    assert stats[0].max_buffer_samples == stats[1].max_buffer_samples
    assert stats[0].max_window_samples == stats[1].max_window_samples
    assert stats[1].chunks == 12 and stats[1].frames == 12 * 50 + 1


def test_the_command_line_transcribes_in_chunks(tone, tmp_path, capsys):
    _, clips = _clips(4, seed=2)
    save_wav(tmp_path / "long.wav", _long(clips), SR)
    expected = transcribe_long(tone, tmp_path / "long.wav", chunk_s=2.0, context_s=1.0).text
    assert transcribe_main(["--checkpoint", str(FIXTURES / "tone_tiny.pt"), "--chunk-seconds", "2",
                            str(tmp_path / "long.wav")]) == 0
    assert capsys.readouterr().out.strip() == expected and expected
    save_wav(tmp_path / "8k.wav", clips[0][::2].copy(), 8000)
    assert transcribe_main(["--checkpoint", str(FIXTURES / "tone_tiny.pt"), "--chunk-seconds", "2",
                            str(tmp_path / "8k.wav")]) == 2
    err = capsys.readouterr().err.strip()
    assert "8000 Hz but the model expects 16000 Hz" in err and "ninerepro.audio.resample" in err and "\n" not in err


@pytest.mark.slow
def test_a_freshly_trained_tone_model_streams_like_the_fixture(tmp_path):
    """Retrains the fixture model from scratch (train_tone_model) and repeats the concatenation check."""
    t = Transcriber.from_checkpoint(train_tone_model(tmp_path / "tone.pt"))
    texts, clips = _clips(10, seed=1)
    per_clip = [t.transcribe_batch([clip])[0] for clip in clips]
    assert cer(texts, per_clip) < 0.15
    result = transcribe_long(t, _long(clips), SR, chunk_s=1.5, context_s=0.5)
    assert cer(" ".join(per_clip), result.text) <= 0.05


def _unigram_arpa(path: Path) -> Path:
    """A uniform LM over every 1-3 letter word of the tone alphabet (hand-written ARPA, one token bigram)."""
    from itertools import product

    from stream_testkit import LETTERS

    words = ["".join(w) for n in (1, 2, 3) for w in product(LETTERS, repeat=n)]
    logp = -float(np.log10(len(words) + 2))
    lines = ["\\data\\", f"ngram 1={len(words) + 3}", "ngram 2=1", "", "\\1-grams:", f"{logp:.4f}\t</s>",
             "-99\t<s>\t0", f"{logp:.4f}\t<unk>", *(f"{logp:.4f}\t{w}\t0" for w in words), "", "\\2-grams:",
             f"{logp:.4f}\t<s> a", "", "\\end\\", ""]  # KenLM wants at least one bigram
    path.write_text("\n".join(lines))
    return path


def test_lm_decoding_and_word_timings_run_over_the_stitched_posteriors(tone, tmp_path, capsys):
    import json

    from deepspeech.decoding import DecoderSpec, build_decoder

    _, clips = _clips(6, seed=4)
    wav = _long(clips)
    save_wav(tmp_path / "long.wav", wav, SR)
    arpa = _unigram_arpa(tmp_path / "lm.arpa")
    whole = build_decoder(DecoderSpec("english", str(arpa), beam_width=8)).decode(tone.posteriors([wav])[0])
    assert transcribe_main(["--checkpoint", str(FIXTURES / "tone_tiny.pt"), "--lm", str(arpa), "--beam", "8",
                            "--chunk-seconds", "1.5", "--context-seconds", "0.5", "--json",
                            str(tmp_path / "long.wav")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert whole and cer(whole, out["text"]) <= 0.05
    assert [w["word"] for w in out["words"]] == out["text"].split()
    assert out["words"][-1]["end"] > len(wav) / SR - 1.5  # timings run past the first chunks


_RSS_PROBE = """
import resource, sys
from deepspeech.infer import Transcriber
from deepspeech.streaming import transcribe_long
t = Transcriber.from_checkpoint(sys.argv[1])
transcribe_long(t, sys.argv[2], chunk_s=5.0, context_s=1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_peak_resident_memory_of_a_chunked_pass_does_not_grow_with_the_file(tmp_path):
    """Real process memory (ru_maxrss, KiB on Linux) for a 30 s and a 120 s file, each in a fresh process."""
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    peaks = []
    for seconds in (30, 120):
        save_wav(tmp_path / f"{seconds}.wav", (0.05 * rng.standard_normal(seconds * SR)).astype(np.float32), SR)
        out = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(FIXTURES / "tone_tiny.pt"),
                              str(tmp_path / f"{seconds}.wav")], capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        peaks.append(int(out.stdout.split()[-1]) / 1024)
    assert peaks[1] - peaks[0] < 16, peaks  # MB; a whole-file pass grows by ~0.7 MB per second of audio
