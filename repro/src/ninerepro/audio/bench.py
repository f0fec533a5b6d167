"""Mel-extraction throughput: ours (torch.stft, float32) vs librosa, same audio, same parameters, CPU.

``python -m ninerepro.audio.bench [--seconds 60] [--repeats 5] [--threads 2]`` prints audio seconds
processed per wall-clock second for both and their ratio (ours / librosa; > 1 means ours is faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ninerepro.audio.mel import tacotron_mel
from ninerepro.audio.signals import speechlike

SR = 22050


@dataclass(frozen=True)
class BenchResult:
    audio_seconds: float
    ours_s: float  # best wall time of one extraction, seconds
    librosa_s: float

    @property
    def ours_throughput(self) -> float:
        return self.audio_seconds / self.ours_s

    @property
    def librosa_throughput(self) -> float:
        return self.audio_seconds / self.librosa_s

    @property
    def ratio(self) -> float:
        return self.ours_throughput / self.librosa_throughput


def librosa_log_mel(wav: np.ndarray) -> np.ndarray:
    """The same front end spelled with librosa calls: stft -> |.| -> mel basis -> log clamp."""
    import librosa

    spec = librosa.stft(wav, n_fft=1024, hop_length=256, win_length=1024, window="hann", center=True,
                        pad_mode="reflect")
    basis = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0)
    return np.log(np.maximum(np.matmul(basis, np.abs(spec)), 1e-5))


def best_times(fns: list[Callable[[], object]], repeats: int, settle_s: float = 0.3) -> list[float]:
    """Best wall time of each function over ``repeats`` rounds, alternating between them.

    Alternating spreads any load from other processes evenly over the contenders, and the minimum is
    the least noisy estimate of the cost itself. Before each timed call we pause ``settle_s``: after a
    BLAS call OpenBLAS keeps its worker threads spinning for ~0.1 s (and OpenMP briefly does the same),
    which on a 2-core machine would bill one contender for the other's idle threads.
    """
    for fn in fns:
        fn()  # warm-up: first calls pay for allocations, FFT plans and the filterbank
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            time.sleep(settle_s)
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def bench_mel(wav: np.ndarray, repeats: int = 5) -> BenchResult:
    """Time both extractors on ``wav`` ([T] or [B, T] float32 at 22050 Hz); check they agree first."""
    ours, theirs = tacotron_mel(wav), librosa_log_mel(wav)
    if ours.shape != theirs.shape or float(np.max(np.abs(ours - theirs))) > 1e-3:
        raise RuntimeError("bench: ours and librosa disagree; the timing would compare different work")
    ours_s, librosa_s = best_times([lambda: tacotron_mel(wav), lambda: librosa_log_mel(wav)], repeats)
    return BenchResult(audio_seconds=wav.size / SR, ours_s=ours_s, librosa_s=librosa_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="total audio length (default 60)")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats; the best is kept")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    audio = speechlike(args.seconds, SR, seed=0)
    n_utts = 10
    utt = len(audio) // n_utts
    cases = {"one clip": audio, f"batch {n_utts}x{utt / SR:.1f}s": audio[: n_utts * utt].reshape(n_utts, utt)}
    print(f"mel extraction, {args.seconds:.0f} s of 22050 Hz audio, CPU, torch threads={args.threads}")
    print(f"{'input':<18} {'ours (audio s/s)':>17} {'librosa (audio s/s)':>20} {'ratio':>7}")
    for name, wav in cases.items():
        result = bench_mel(wav, args.repeats)
        print(f"{name:<18} {result.ours_throughput:17.0f} {result.librosa_throughput:20.0f} "
              f"{result.ratio:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
