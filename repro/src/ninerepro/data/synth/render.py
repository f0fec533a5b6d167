"""From synthesis jobs to finished float waveforms at a corpus's sample rate, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from tqdm import tqdm

from ninerepro.audio.io import resample
from ninerepro.data.synth.espeak import ESPEAK_SR, SynthJob, Voice, synthesise

MARGIN_S = 0.12  # silence kept before the first and after the last audible sample
SILENCE_THRESHOLD = 1e-3  # |x| below this counts as silence when trimming


def job_seed(corpus_seed: int, index: int) -> int:
    """eSpeak's noise seed for utterance ``index``: fixed by the corpus seed, different per utterance."""
    return int(np.random.default_rng([corpus_seed, index]).integers(1, 2**31 - 1))


def trim_silence(wav: np.ndarray, sr: int, margin_s: float = MARGIN_S) -> np.ndarray:
    """Cut leading/trailing silence down to ``margin_s`` (eSpeak pads unevenly; real clips are tight)."""
    loud = np.flatnonzero(np.abs(wav) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return wav
    margin = int(margin_s * sr)
    return wav[max(0, loud[0] - margin): loud[-1] + 1 + margin]


def render(
    items: Sequence[tuple[str, Voice]], sr: int, seed: int, workers: int, desc: str, margin_s: float = MARGIN_S
) -> Iterator[np.ndarray]:
    """Yield float32 waveforms in [-1, 1] at ``sr``, one per (text, voice), in order."""
    jobs = [SynthJob(text, voice, job_seed(seed, i)) for i, (text, voice) in enumerate(items)]
    for raw in tqdm(synthesise(jobs, workers), total=len(jobs), desc=desc, unit="utt"):
        wav = trim_silence(raw.astype(np.float32) / 32768.0, ESPEAK_SR, margin_s)
        yield resample(wav, ESPEAK_SR, sr) if sr != ESPEAK_SR else wav
