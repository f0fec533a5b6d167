"""Turn the body of a transcription request into float32 samples, or a 4xx with a useful message.

The server answers strangers on a socket, so every check here fails with :class:`RequestError`, which
carries the HTTP status and a sentence telling the client what to send instead. A model trained on
16 kHz audio transcribes 8 kHz or 44.1 kHz input into confident garbage, so a wrong
sample rate is refused rather than silently resampled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf

# Content types that mean "a WAV file". application/octet-stream is accepted as well because curl's
# --data-binary and many HTTP libraries send it by default; the bytes are still checked to be a WAV.
WAV_CONTENT_TYPES = frozenset(
    {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream"}
)


class RequestError(Exception):
    """A client mistake: ``status`` is the HTTP code to answer with, ``message`` says how to fix it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AudioLimits:
    """What the server accepts: the model's rate, and caps that keep one request from hogging a batch."""

    sample_rate: int = 16000  # the DS2 front end is 16 kHz (DS2 §3.1)
    max_seconds: float = 30.0  # longer utterances pad every other request in the batch to their length
    max_bytes: int = 2 * 1024 * 1024  # 30 s of 16 kHz 16-bit mono is ~0.96 MB; allow headroom for headers
    min_seconds: float = 0.1  # shorter audio gives the STFT and the conv stack too few frames to transcribe

    def __post_init__(self) -> None:
        if self.min_seconds < 0 or self.min_seconds >= self.max_seconds:
            raise ValueError(f"AudioLimits: min_seconds ({self.min_seconds}) must be >= 0 and below "
                             f"max_seconds ({self.max_seconds})")
        if self.sample_rate <= 0 or self.max_seconds <= 0 or self.max_bytes <= 44:
            raise ValueError(
                f"AudioLimits: sample_rate ({self.sample_rate}), max_seconds ({self.max_seconds}) and "
                f"max_bytes ({self.max_bytes}, must exceed a 44-byte WAV header) must be positive"
            )


def check_content_type(header: str | None) -> None:
    """Refuse anything that is not declared as WAV audio (415), ignoring parameters like ``; charset``."""
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type not in WAV_CONTENT_TYPES:
        raise RequestError(
            415,
            f"Content-Type {header!r} is not supported; send the raw WAV bytes with "
            f"'Content-Type: audio/wav' (16 kHz, mono, 16-bit PCM)",
        )


def decode_wav(body: bytes, limits: AudioLimits) -> np.ndarray:
    """Parse ``body`` as a 16-bit PCM mono WAV at ``limits.sample_rate``; return float32 in [-1, 1].

    Raises :class:`RequestError` (400 for malformed or wrong-format audio, 413 for too long).
    """
    if not body:
        raise RequestError(400, "empty request body; send a WAV file (16 kHz, mono, 16-bit PCM)")
    check_complete_wav(body)
    try:
        with sf.SoundFile(io.BytesIO(body)) as handle:
            fmt, subtype = handle.format, handle.subtype
            rate, channels, frames = handle.samplerate, handle.channels, handle.frames
            _check_format(fmt, subtype, rate, channels, limits)
            if frames / rate > limits.max_seconds:
                raise RequestError(
                    413,
                    f"audio is {frames / rate:.2f} s long; this server accepts at most "
                    f"{limits.max_seconds:g} s per request (split the file or raise --max-seconds)",
                )
            samples = handle.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise RequestError(400, f"cannot decode the body as a WAV file ({err}); the data is corrupt") from err
    if samples.shape[0] == 0:
        raise RequestError(400, "the WAV file holds 0 samples; send at least a few milliseconds of audio")
    if samples.shape[0] < limits.min_seconds * limits.sample_rate:
        raise RequestError(400, f"audio is {samples.shape[0] / limits.sample_rate:.3f} s long; this server needs "
                                f"at least {limits.min_seconds:g} s per request (pad it with silence)")
    return np.ascontiguousarray(samples[:, 0], dtype=np.float32)


def check_complete_wav(body: bytes) -> None:
    """400 when a RIFF/WAV body is shorter than its own chunk sizes say: a truncated upload would otherwise
    decode without error (libsndfile reads what is there) and be transcribed as if it were whole. Sizes of
    0 or 0xFFFFFFFF are the "unknown length" of streamed WAV writers and are not checked."""
    if len(body) < 12 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        return  # not RIFF/WAVE: decoding below says what is wrong with it
    position = 12
    while position + 8 <= len(body):
        chunk, size = body[position : position + 4], int.from_bytes(body[position + 4 : position + 8], "little")
        if chunk == b"data":
            present = len(body) - position - 8
            if size not in (0, 0xFFFFFFFF) and size > present:
                raise RequestError(400, f"the WAV file is truncated: its data chunk declares {size} bytes but "
                                        f"{present} arrived; re-send the whole file")
            return
        position += 8 + size + (size & 1)  # chunks are padded to an even size
    # no data chunk header in the body: libsndfile's error below names the problem


def _check_format(fmt: str, subtype: str, rate: int, channels: int, limits: AudioLimits) -> None:
    """The wire contract: WAV container, PCM_16, one channel, the model's sample rate."""
    if fmt != "WAV":
        raise RequestError(400, f"body is a {fmt} file; send a WAV file (16 kHz, mono, 16-bit PCM)")
    if rate != limits.sample_rate:
        raise RequestError(
            400,
            f"sample rate is {rate} Hz but the model needs {limits.sample_rate} Hz; resample first, e.g. "
            f"`sox in.wav -r {limits.sample_rate} out.wav` or `python -m ninerepro.audio.resample in.wav out.wav "
            f"--sr {limits.sample_rate}`",
        )
    if channels != 1:
        raise RequestError(400, f"audio has {channels} channels; send mono (e.g. `sox in.wav -c 1 out.wav`)")
    if subtype != "PCM_16":
        raise RequestError(
            400, f"sample format is {subtype}; send 16-bit PCM (e.g. `sox in.wav -b 16 out.wav`)"
        )
