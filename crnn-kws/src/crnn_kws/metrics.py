"""The false-alarm rule, false alarms per hour, and FRR at a target FA/h: stated once, used everywhere.

Keyword-spotting papers disagree on how alarms are counted (spec §9), so the rule is fixed here:

- a detector scores p[t] once per hop; the smoothed score s[t] is the mean of the last ``window`` scores
  (fewer at a stream's start);
- an alarm fires at t iff s[t] >= threshold (inclusive) AND (no alarm yet in this stream OR
  t - t_last >= ``refractory_steps``), t_last being the step of the last *fired* alarm: a suppressed crossing
  does not restart the lockout, and a score that stays high fires again once the lockout is over;
- streams are independent: history and lockout reset at every stream's start;
- FA/h = alarms over all streams / total hours of those streams;
- the operating threshold for a target FA/h is the smallest grid threshold whose FA/h <= target; a positive is
  detected iff its maximum smoothed score >= that threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class NoOperatingPointError(ValueError):
    """No threshold of the grid keeps false alarms at or below the target."""


def smoothed(scores: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """s[t] = mean(p[max(0, t - window + 1) .. t]): a running mean that averages fewer steps at the start."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    p = np.asarray(scores, dtype=np.float64).reshape(-1)
    if p.size == 0:
        return p
    # direct sums over each window (not differences of a cumulative sum, whose rounding would move a score
    # that equals the threshold to just below it and break the inclusive comparison)
    padded = np.concatenate([np.zeros(window - 1), p])
    sums = np.lib.stride_tricks.sliding_window_view(padded, window).sum(axis=1)
    return sums / np.minimum(np.arange(1, p.size + 1), window)


def _fire(s: np.ndarray, threshold: float, refractory_steps: int) -> list[int]:
    """Alarm steps of one smoothed stream: jump from each fired alarm to the first crossing past its lockout."""
    crossings = np.flatnonzero(s >= threshold)
    fired: list[int] = []
    i = 0
    while i < crossings.size:
        t = int(crossings[i])
        fired.append(t)
        # the next alarm is the first crossing at or after t + refractory_steps (lockout from a fired alarm)
        i = int(np.searchsorted(crossings, t + max(refractory_steps, 1), side="left"))
    return fired


def alarm_steps(scores: Sequence[float] | np.ndarray, window: int, threshold: float,
                refractory_steps: int) -> list[int]:
    """Steps at which alarms fire in one stream of per-hop scores (the rule in the module docstring)."""
    if refractory_steps < 0:
        raise ValueError(f"refractory_steps must be >= 0, got {refractory_steps}")
    return _fire(smoothed(scores, window), float(threshold), refractory_steps)


def _hours(streams: Sequence[np.ndarray], hop_s: float) -> float:
    if hop_s <= 0:
        raise ValueError(f"hop_s must be positive, got {hop_s}")
    steps = sum(len(s) for s in streams)
    if not streams or steps == 0:
        raise ValueError("the negative set is empty: false alarms per hour need keyword-free audio; "
                         "add negative streams (e.g. the corpus' speech/ and noise/ folders)")
    return steps * hop_s / 3600.0


def fa_per_hour(streams: Sequence[Sequence[float] | np.ndarray], hop_s: float, window: int, threshold: float,
                refractory_steps: int) -> float:
    """False alarms per hour over keyword-free ``streams`` of per-hop scores (``hop_s`` seconds apart)."""
    hours = _hours([np.asarray(s) for s in streams], hop_s)
    alarms = sum(len(alarm_steps(s, window, threshold, refractory_steps)) for s in streams)
    return alarms / hours


def fa_curve(streams: Sequence[Sequence[float] | np.ndarray], thresholds: Sequence[float] | np.ndarray,
             hop_s: float, window: int, refractory_steps: int) -> np.ndarray:
    """FA/h at every threshold of the grid (each stream smoothed once), [len(thresholds)]."""
    smooth = [smoothed(s, window) for s in streams]
    hours = _hours(smooth, hop_s)
    top = max((float(s.max()) for s in smooth if s.size), default=-np.inf)
    # thresholds above every smoothed score fire nothing: skip the scan there (most of a logit grid's top)
    return np.array([0.0 if th > top else sum(len(_fire(s, float(th), refractory_steps)) for s in smooth) / hours
                     for th in thresholds])


def logit_grid(n: int, min_logit: float = -12.0, max_logit: float = 30.0) -> np.ndarray:
    """``n`` thresholds even on the logit scale: sigmoid(linspace(min_logit, max_logit, n)), float64.

    A trained detector's negatives and positives both crowd near posterior 1 (logits 5 ... 15): an even grid on
    [0, 1] puts one point (0.999) below all of them and the next (1.0) above, so the operating point jumps
    from "every confusable fires" to "nothing is detected". Even logit steps resolve that region.
    """
    if n < 2 or not min_logit < max_logit:
        raise ValueError(f"logit_grid: need n >= 2 and min_logit < max_logit, got {n}, {min_logit}, {max_logit}")
    return 1.0 / (1.0 + np.exp(-np.linspace(min_logit, max_logit, n)))


def max_smoothed(scores: Sequence[float] | np.ndarray, window: int) -> float:
    """A positive's decision statistic: the maximum of its smoothed scores."""
    s = smoothed(scores, window)
    if s.size == 0:
        raise ValueError("a positive clip produced no scores; it is shorter than one decision window")
    return float(s.max())


def frr_at(positive_max_scores: Sequence[float] | np.ndarray, threshold: float) -> float:
    """Share of positives whose maximum smoothed score stays below ``threshold``."""
    m = np.asarray(positive_max_scores, dtype=np.float64)
    if m.size == 0:
        raise ValueError("no positives: FRR needs at least one keyword clip")
    return float(np.mean(m < threshold))


def operating_point(negative_streams: Sequence[Sequence[float] | np.ndarray],
                    positive_max_scores: Sequence[float] | np.ndarray, thresholds: Sequence[float] | np.ndarray,
                    target_fa_per_hour: float, hop_s: float, window: int,
                    refractory_steps: int) -> tuple[float, float]:
    """(threshold, FRR): the smallest grid threshold whose FA/h <= target, and the FRR of the positives there.

    Raises :class:`NoOperatingPointError` (never returns NaN) when no threshold meets the target.
    """
    grid = np.sort(np.asarray(thresholds, dtype=np.float64))
    if grid.size == 0:
        raise ValueError("the threshold grid is empty")
    fa = fa_curve(negative_streams, grid, hop_s, window, refractory_steps)
    ok = np.flatnonzero(fa <= target_fa_per_hour)
    if ok.size == 0:
        raise NoOperatingPointError(
            f"no threshold in [{grid[0]:g}, {grid[-1]:g}] keeps false alarms at or below {target_fa_per_hour:g}/h "
            f"(the lowest is {fa.min():.3g}/h at threshold {grid[int(fa.argmin())]:g}); extend the grid towards 1, "
            "train longer, or report FRR at a higher FA/h")
    threshold = float(grid[ok[0]])
    return threshold, frr_at(positive_max_scores, threshold)
