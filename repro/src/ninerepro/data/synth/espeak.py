"""eSpeak NG speech synthesis through ctypes, made deterministic.

The library comes from the PyPI package ``espeakng-loader`` (shared library plus its voice data), so no
system install is needed. Two properties of libespeak-ng shape this module:

* It seeds its noise generator from the clock in ``espeak_Initialize``; we reseed it
  (``espeak_ng_SetRandSeed``) before every utterance.
* It keeps synthesis state (oscillator phases, filter memories) in C statics that survive
  ``espeak_Terminate``: the same sentence synthesised twice in one process gives different samples.
  So every utterance is synthesised in a *fresh* process (a pool with ``maxtasksperchild=1``). The
  output then depends only on (text, voice, seed), never on which worker ran it or what it ran before,
  which makes corpora byte-identical across runs and worker counts. The parent process never
  synthesises, so forked children start from pristine library state.
"""

from __future__ import annotations

import ctypes
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

ESPEAK_SR = 22050  # libespeak-ng's native output rate

# Constants from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakError(RuntimeError):
    """libespeak-ng could not be loaded or refused a voice or a text."""


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker: an eSpeak voice name plus prosody settings.

    Args:
        name: eSpeak voice, optionally with a variant, e.g. ``"en-us"`` or ``"en-gb-scotland+f2"``.
        rate: speaking rate in words per minute (eSpeak's default is 175).
        pitch: base pitch, 0-100 (default 50).
        pitch_range: pitch variation, 0-100 (0 = monotone; default 50).
    """

    name: str
    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50


@dataclass(frozen=True)
class SynthJob:
    """What one fresh process synthesises: ``text`` spoken by ``voice`` with noise seed ``seed``."""

    text: str
    voice: Voice
    seed: int


def _load_library() -> ctypes.CDLL:
    try:
        import espeakng_loader
    except ImportError as err:
        raise EspeakError("the PyPI package `espeakng-loader` is missing; `pip install espeakng-loader`") from err
    try:
        return ctypes.CDLL(espeakng_loader.get_library_path())
    except OSError as err:
        raise EspeakError(f"cannot load libespeak-ng from espeakng-loader: {err}") from err


def _synthesise_here(job: SynthJob) -> np.ndarray:
    """Run libespeak-ng in *this* process; only ever called inside a fresh worker process."""
    import espeakng_loader

    lib = _load_library()
    chunks: list[np.ndarray] = []

    def collect(wav, n_samples, _events) -> int:
        if n_samples > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0  # 0 = keep synthesising

    callback = _CALLBACK(collect)  # must stay referenced until synthesis ends
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
    if rate != ESPEAK_SR:
        raise EspeakError(f"espeak_Initialize returned {rate}; expected the native rate {ESPEAK_SR} Hz")
    lib.espeak_SetSynthCallback(callback)
    lib.espeak_ng_SetRandSeed(ctypes.c_long(job.seed))
    if lib.espeak_SetVoiceByName(job.voice.name.encode()) != 0:
        raise EspeakError(f"eSpeak has no voice {job.voice.name!r}; see `espeak-ng --voices=en` for names")
    for param, value in ((_PARAM_RATE, job.voice.rate), (_PARAM_PITCH, job.voice.pitch),
                         (_PARAM_RANGE, job.voice.pitch_range), (_PARAM_VOLUME, 100)):
        lib.espeak_SetParameter(param, int(value), 0)
    text = job.text.encode("utf-8")
    status = lib.espeak_Synth(ctypes.c_char_p(text), ctypes.c_size_t(len(text) + 1), 0, _POS_CHARACTER, 0,
                              _CHARS_UTF8, None, None)
    lib.espeak_Synchronize()
    if status != 0 or not chunks:
        raise EspeakError(f"eSpeak failed (status {status}) on text {job.text!r} with voice {job.voice}")
    return np.concatenate(chunks)


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is cheap and, as the parent never synthesises, gives pristine state; spawn is the fallback.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def synthesise(jobs: Sequence[SynthJob], workers: int = 1) -> Iterator[np.ndarray]:
    """Yield int16 waveforms at 22050 Hz, one per job, in job order.

    Each job runs in its own fresh process (see the module docstring for why); ``workers`` processes
    run at once. The result does not depend on ``workers``.
    """
    if not jobs:
        return
    with _pool_context().Pool(max(1, min(workers, len(jobs))), maxtasksperchild=1) as pool:
        yield from pool.imap(_synthesise_here, jobs, chunksize=1)
