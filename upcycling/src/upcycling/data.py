"""Training windows from a memory-mapped token file.

Why random windows and a counter-based RNG: the corpus is one long token stream, so a batch is any set of
``seq_len + 1``-token windows. Batch ``b`` of epoch ``e`` draws its window starts from a generator seeded
with (seed, e, b) and each rank takes its own slice, so a run resumed at batch ``b`` (ninerepro's Trainer calls
``set_epoch``/``set_start``) sees exactly the batches an uninterrupted run would, under any world size
that keeps the global batch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from upcycling.prepare import meta_path


class TokenFile:
    """The train and val token arrays of a file written by ``upcycle prepare`` (memory-mapped, read-only)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        mp = meta_path(self.path)
        if not self.path.is_file() or not mp.is_file():
            raise FileNotFoundError(
                f"token file {self.path} or its meta {mp} is missing; create them with "
                f"`upcycle prepare --stdlib --out {self.path}`"
            )
        self.meta = json.loads(mp.read_text(encoding="utf-8"))
        if self.meta.get("format") != "upcycling-tokens/1":
            raise ValueError(f"{mp} is not an `upcycle prepare` meta file (format {self.meta.get('format')!r})")
        dtype = np.dtype(self.meta["dtype"]).newbyteorder("<")
        n_train, n_val = self.meta["train_tokens"], self.meta["val_tokens"]
        expected = (n_train + n_val) * dtype.itemsize
        if self.path.stat().st_size != expected:
            raise ValueError(
                f"{self.path} has {self.path.stat().st_size} bytes but its meta promises {expected}; the file is "
                "truncated or from another run of prepare — re-run `upcycle prepare`"
            )
        tokens = np.memmap(self.path, dtype=dtype, mode="r")
        self.train, self.val = tokens[:n_train], tokens[n_train:]
        self.vocab_size = int(self.meta["vocab_size"])


class Windows(Dataset):
    """Item ``start`` → (x, y): ``seq_len`` input tokens and the same window shifted by one."""

    def __init__(self, tokens: np.ndarray, seq_len: int) -> None:
        if len(tokens) < seq_len + 2:
            raise ValueError(f"{len(tokens)} tokens are fewer than one window of seq_len={seq_len}; "
                             "prepare more text or lower data.seq_len")
        self.tokens, self.seq_len = tokens, seq_len

    def __len__(self) -> int:
        return len(self.tokens) - self.seq_len - 1

    def __getitem__(self, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        w = torch.from_numpy(self.tokens[start:start + self.seq_len + 1].astype(np.int64))
        return w[:-1], w[1:]


class WindowBatchSampler:
    """Batches of window starts, a pure function of (seed, epoch, batch index, rank); resumable."""

    def __init__(self, num_windows: int, batch_size: int, batches_per_epoch: int, *, seed: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        self.num_windows, self.batch_size, self.batches = num_windows, batch_size, batches_per_epoch
        self.seed, self.rank, self.world = seed, rank, world_size
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def set_start(self, batch_index: int) -> None:
        """Skip to this batch of the current epoch (a resumed run)."""
        self.start = batch_index

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        for b in range(self.start, self.batches):
            rng = np.random.default_rng([self.seed, self.epoch, b])
            starts = rng.integers(0, self.num_windows, size=self.batch_size * self.world)
            yield starts[self.rank * self.batch_size:(self.rank + 1) * self.batch_size].tolist()
        self.start = 0


def train_loader(tokens: TokenFile, seq_len: int, batch_size: int, *, seed: int, rank: int = 0,
                 world_size: int = 1, batches_per_epoch: int = 10_000) -> DataLoader:
    ds = Windows(tokens.train, seq_len)
    sampler = WindowBatchSampler(len(ds), batch_size, batches_per_epoch, seed=seed, rank=rank,
                                 world_size=world_size)
    return DataLoader(ds, batch_sampler=sampler)


def val_batches(tokens: TokenFile, seq_len: int, batch_size: int, n_batches: int) -> list[tuple]:
    """Fixed, evenly spaced held-out windows (the same for every run on this file)."""
    ds = Windows(tokens.val, seq_len)
    n = min(n_batches * batch_size, len(ds))
    starts = np.linspace(0, len(ds) - 1, n).astype(np.int64)
    items = [ds[int(s)] for s in starts]
    return [
        (torch.stack([x for x, _ in items[i:i + batch_size]]), torch.stack([y for _, y in items[i:i + batch_size]]))
        for i in range(0, n, batch_size)
    ]
