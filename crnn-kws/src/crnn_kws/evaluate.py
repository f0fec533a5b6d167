"""Wake-word evaluation: negative streams and positives at fixed SNRs -> FA/h, DET curve, FRR at a target.

For each test SNR (paper Table 3: 5, 10, 20 dB) the held-out speech and confusable phrases are strung into
long keyword-free streams, each mixed with held-out noise at that SNR, and scored hop by hop; every held-out
positive is set in a short stretch of audio with the same noise and streamed the same way, and its maximum
smoothed score is its decision statistic. ``crnn_kws.metrics`` turns both into FA/h per threshold, the DET
curve and FRR at the target FA/h.
"""

from __future__ import annotations

import numpy as np

from crnn_kws.data import FLOOR_RMS, SplitAudio, crop, finish
from crnn_kws.detector import Detector
from crnn_kws.metrics import NoOperatingPointError, fa_curve, frr_at, logit_grid, max_smoothed, operating_point

PAPER_ACCURACY = {5.0: 97.71, 10.0: 98.71, 20.0: 99.30}  # % at 0.5 FA/h (abstract; Table 3)
STREAM_S = 60.0  # seconds per negative stream
POSITIVE_PAD_S = 0.75  # audio before and after each positive clip, so windows slide over it


def negative_stream(audio: SplitAudio, seconds: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Speech utterances and confusable phrases in random order with pauses, ``seconds`` long."""
    parts, total = [], 0
    target = int(seconds * sr)
    while total < target:
        pool = audio.confusables if audio.confusables and rng.random() < 0.25 else audio.speech
        clip = pool[rng.integers(len(pool))]
        pause = np.zeros(int(rng.uniform(0.2, 1.5) * sr), dtype=np.float32)
        parts += [clip, pause]
        total += len(clip) + len(pause)
    wav = np.concatenate(parts)[:target]
    return wav + (rng.standard_normal(target) * FLOOR_RMS).astype(np.float32)


def positive_clip(clip: np.ndarray, window: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    """A positive with padding so that at least one window holds it whole; hiss underneath."""
    pad = int(POSITIVE_PAD_S * sr)
    length = max(window, len(clip)) + 2 * pad
    out = (rng.standard_normal(length) * FLOOR_RMS).astype(np.float32)
    start = (length - len(clip)) // 2
    out[start:start + len(clip)] += clip
    return out


def noisy(wav: np.ndarray, audio: SplitAudio, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    return finish(wav, crop(audio.noises[rng.integers(len(audio.noises))], len(wav), rng), snr_db)


def condition_scores(det: Detector, audio: SplitAudio, snr_db: float, negative_s: float,
                     seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(per-hop scores of each negative stream, max smoothed score of each positive) at one SNR."""
    sr, window = det.cfg.features.sample_rate, det.cfg.features.window_samples
    rng = np.random.default_rng([seed, int(snr_db * 10) + 1000])
    n_streams = max(1, round(negative_s / STREAM_S))
    # each stream is one window longer than its share, so the decisions (one per hop once a window is in)
    # cover negative_s seconds and the FA/h resolution is the one asked for
    length_s = negative_s / n_streams + det.cfg.features.window_s
    streams = [det.scores(noisy(negative_stream(audio, length_s, rng, sr), audio, snr_db, rng))
               for _ in range(n_streams)]
    smooth = det.cfg.eval.smooth_window
    positives = np.array([max_smoothed(det.scores(noisy(positive_clip(p, window, rng, sr), audio, snr_db, rng)),
                                       smooth) for p in audio.positives])
    return streams, positives


def evaluate_condition(det: Detector, audio: SplitAudio, snr_db: float, negative_s: float, seed: int) -> dict:
    """DET curve and FRR at the target FA/h for one SNR (``frr`` is None when no threshold meets the target)."""
    ev = det.cfg.eval
    streams, positives = condition_scores(det, audio, snr_db, negative_s, seed)
    grid = logit_grid(ev.n_thresholds, ev.min_logit, ev.max_logit)
    refractory = ev.refractory_steps(det.cfg.features.hop_s)
    fa = fa_curve(streams, grid, det.hop_s, ev.smooth_window, refractory)
    frr = np.array([frr_at(positives, t) for t in grid])
    result = {"snr_db": snr_db, "negative_hours": sum(len(s) for s in streams) * det.hop_s / 3600,
              "positives": len(positives), "det": {"fa_per_hour": fa.tolist(), "frr": frr.tolist()}}
    try:
        threshold, at_target = operating_point(streams, positives, grid, ev.target_fa_per_hour, det.hop_s,
                                               ev.smooth_window, refractory)
        result.update(threshold=threshold, threshold_logit=float(np.log(threshold / (1.0 - threshold))),
                      frr=at_target, accuracy=1.0 - at_target)
    except NoOperatingPointError as e:
        result.update(threshold=None, threshold_logit=None, frr=None, accuracy=None, note=str(e))
    return result
