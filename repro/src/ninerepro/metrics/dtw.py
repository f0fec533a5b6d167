"""Dynamic time warping between two feature sequences, for metrics on sequences of different lengths.

Synthesised speech rarely has the reference's frame count, so MCD is usually reported along the DTW
path. Steps are (1, 0), (0, 1) and (1, 1) with unit weight, and the path must start at the first pair of
frames and end at the last pair.
"""

from __future__ import annotations

import numpy as np


def _accumulate(cost: np.ndarray) -> np.ndarray:
    """Accumulated cost A[i, j] = cost[i, j] + min(A[i-1, j], A[i-1, j-1], A[i, j-1]), row by row.

    Within a row, A[i, j] = S[j] + min_{k<=j}(U[k] - S[k-1]) where S is the running sum of the row's
    costs and U[k] the best entry from the previous row; a running minimum makes each row one numpy pass.
    """
    n = cost.shape[0]
    acc = np.empty_like(cost)
    acc[0] = np.cumsum(cost[0])
    for i in range(1, n):
        from_above = acc[i - 1].copy()
        from_above[1:] = np.minimum(from_above[1:], acc[i - 1, :-1])
        running = np.cumsum(cost[i])
        before = np.concatenate(([0.0], running[:-1]))
        acc[i] = running + np.minimum.accumulate(from_above - before)
    return acc


def _backtrack(acc: np.ndarray) -> np.ndarray:
    """Cheapest predecessor chain from the last cell back to (0, 0), as an array of (i, j) pairs."""
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            step = int(np.argmin((acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])))
            i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
        path.append((i, j))
    return np.array(path[::-1], dtype=np.int64)


def dtw_path(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Warping path [L, 2] of (ref frame, est frame) pairs minimising the summed Euclidean distance.

    ``ref`` is [frames_ref, dim] and ``est`` is [frames_est, dim] (frames first, one row per frame).
    """
    if ref.ndim != 2 or est.ndim != 2 or ref.shape[1] != est.shape[1]:
        raise ValueError(f"dtw_path needs [frames, dim] arrays of equal dim, got {ref.shape} and {est.shape}")
    if len(ref) == 0 or len(est) == 0:
        raise ValueError("dtw_path needs at least one frame in each sequence")
    diff = ref[:, None, :] - est[None, :, :]  # [frames_ref, frames_est, dim]
    cost = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return _backtrack(_accumulate(cost))
