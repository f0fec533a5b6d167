"""Transcription of long audio in overlapping chunks, with memory bounded by the chunk size, not the file length.

A Deep Speech model is trained on utterances of seconds, normalises its spectrogram per utterance and (when
bidirectional) reads each utterance to its end before emitting anything, so an hour-long file cannot go through
it in one piece. Here the waveform is read in blocks (soundfile) and cut into *cores* of ``chunk_s`` seconds; each
core is run together with ``context_s`` seconds of audio on each side (its *window*, normalised as one utterance),
and only the output frames of the core are kept. Cores start on multiples of one output frame
(hop x the model's time stride), so the kept frames line up with those of a whole-file pass: none is lost or
doubled, and the frame count equals the whole file's. The context keeps the cut edges (zero padding of the
convolutions, missing future for the backward RNN, the row convolution's lookahead) away from kept frames.

Greedy decoding is streamed too (a CTC collapse that remembers the last label across chunks), so at most one
window of audio, features and activations is alive at a time. An LM beam search needs the whole posteriorgram
(T' x C float32: 21 MB per hour at 50 frames/s and 29 classes), which is kept only then.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from deepspeech.decode import tidy
from deepspeech.features import compute_features, prepare_audio
from ninerepro.audio import AudioFileError, SampleRateError


@dataclass
class StreamStats:
    """What a streamed pass did: for checking that memory stayed bounded and that no frame was lost."""

    chunks: int = 0
    frames: int = 0
    samples: int = 0
    max_window_samples: int = 0
    max_buffer_samples: int = 0


@dataclass
class LongTranscript:
    text: str
    seconds: float
    stats: StreamStats
    log_probs: np.ndarray | None = None
    """[T', C] posteriors, kept only when asked for (LM decoding, word timings)"""


def frame_samples(transcriber) -> int:
    """Samples per output frame: the feature hop times the model's time stride (320 at 16 kHz for DS2 2d-2)."""
    features = transcriber.cfg.features
    hop = round(features.sample_rate * features.window_stride)
    probe = torch.tensor([1000])
    stride = round(1000 / float(transcriber.model.output_lengths(probe)[0]))
    return hop * stride


def read_blocks(path: str | os.PathLike, block_samples: int) -> tuple[Iterator[np.ndarray], int]:
    """(mono float32 blocks of ``path``, sample rate) without loading the whole file."""
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"{p}: no such audio file")
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioFileError(f"{p}: cannot decode audio ({err}); the file is corrupt or not a wav/flac file") from None
    if info.frames == 0:
        raise AudioFileError(f"{p}: the file holds 0 samples; re-create or remove it")

    def blocks() -> Iterator[np.ndarray]:
        for block in sf.blocks(str(p), blocksize=block_samples, dtype="float32", always_2d=True):
            yield block.mean(axis=1, dtype=np.float32)

    return blocks(), int(info.samplerate)


def stream_log_probs(transcriber, blocks: Iterable[np.ndarray], sample_rate: int, chunk_s: float = 10.0,
                     context_s: float = 1.0, where: str = "audio",
                     stats: StreamStats | None = None) -> Iterator[np.ndarray]:
    """Yield consecutive [n_i, C] log-probability slices of a long waveform given as blocks of samples.

    Their concatenation has exactly the frames of a whole-file pass. At most ``chunk_s + 2 * context_s`` seconds
    of audio (plus one block) are held at any time.
    """
    features = transcriber.cfg.features
    if sample_rate != features.sample_rate:
        raise SampleRateError(f"{where}: audio is {sample_rate} Hz but the model expects {features.sample_rate} Hz; "
                              f"resample the file first: python -m ninerepro.audio.resample {where} OUT.wav "
                              f"--sr {features.sample_rate}")
    if chunk_s <= 0 or context_s < 0:
        raise ValueError(f"chunk length must be > 0 s and context >= 0 s, got {chunk_s} and {context_s}")
    unit = frame_samples(transcriber)
    core = max(1, round(chunk_s * sample_rate / unit)) * unit
    context = max(1, round(context_s * sample_rate / unit)) * unit  # >= 1 frame: a last window is never tiny
    stats = stats if stats is not None else StreamStats()
    buffer = np.zeros(0, dtype=np.float32)  # samples from buffer_start on
    buffer_start = 0  # absolute sample index of buffer[0]
    core_start = 0
    source = iter(blocks)
    exhausted = False
    while True:
        need = core_start + core + context  # absolute end of this window when it is not the last one
        while not exhausted and buffer_start + len(buffer) < need + 1:  # +1: know whether more audio follows
            block = next(source, None)
            if block is None:
                exhausted = True
            else:
                buffer = np.concatenate([buffer, np.asarray(block, dtype=np.float32)])
                stats.samples += len(block)
            stats.max_buffer_samples = max(stats.max_buffer_samples, len(buffer))
        total = buffer_start + len(buffer)
        last = exhausted and total <= need
        window_start = max(0, core_start - context)
        window = buffer[window_start - buffer_start: (total if last else need) - buffer_start]
        stats.max_window_samples = max(stats.max_window_samples, len(window))
        seconds = f"{window_start / sample_rate:.2f}-{(window_start + len(window)) / sample_rate:.2f} s"
        wav = prepare_audio(window, sample_rate, features, f"{where} [{seconds}]")
        x = compute_features(wav, features, transcriber.cfg.model.arch)[None].to(transcriber.device)
        with torch.inference_mode():
            log_probs, lengths = transcriber.model(x, torch.tensor([x.shape[-1]], device=transcriber.device))
        frames = log_probs[0, : int(lengths[0])].float().cpu().numpy()
        first = (core_start - window_start) // unit
        kept = frames[first:] if last else frames[first: first + core // unit]
        stats.chunks += 1
        stats.frames += len(kept)
        yield kept
        if last:
            return
        core_start += core
        drop = max(0, core_start - context) - buffer_start  # keep the next window's left context
        buffer, buffer_start = buffer[drop:].copy(), buffer_start + drop


class StreamingGreedy:
    """CTC greedy decoding fed slice by slice: repeats are merged across slice boundaries too."""

    def __init__(self, vocab) -> None:
        self.vocab, self.previous, self.ids = vocab, -1, []

    def feed(self, log_probs: np.ndarray) -> None:
        for index in np.asarray(log_probs).argmax(axis=-1).tolist():
            if index != self.previous and index != self.vocab.blank:
                self.ids.append(index)
            self.previous = index

    def text(self) -> str:
        return tidy(self.vocab.decode(self.ids))  # as decode.greedy_decode


def transcribe_long(transcriber, audio: str | os.PathLike | np.ndarray, sample_rate: int | None = None,
                    chunk_s: float = 10.0, context_s: float = 1.0, keep_log_probs: bool = False,
                    block_s: float = 1.0) -> LongTranscript:
    """Transcribe a long file (read in blocks) or array in chunks. With an LM decoder set on the transcriber,
    its beam search runs once over the stitched posteriors; otherwise greedy decoding is streamed."""
    if isinstance(audio, np.ndarray):
        rate = sample_rate or transcriber.sample_rate
        step = max(1, round(block_s * rate))
        blocks: Iterable[np.ndarray] = (audio[i: i + step] for i in range(0, len(audio), step))
        where = "audio"
    else:
        blocks, rate = read_blocks(audio, max(1, round(block_s * transcriber.sample_rate)))
        where = str(audio)
    stats = StreamStats()
    keep = keep_log_probs or transcriber.decoder is not None
    greedy = StreamingGreedy(transcriber.vocab)
    pieces = []
    for piece in stream_log_probs(transcriber, blocks, rate, chunk_s, context_s, where, stats):
        if keep:
            pieces.append(piece)
        else:
            greedy.feed(piece)
    log_probs = np.concatenate(pieces) if keep else None
    if transcriber.decoder is not None:
        text = transcriber.decoder.decode(log_probs)
    else:
        if keep:
            greedy.feed(log_probs)
        text = greedy.text()
    return LongTranscript(text, stats.samples / rate, stats, log_probs if keep_log_probs else None)
