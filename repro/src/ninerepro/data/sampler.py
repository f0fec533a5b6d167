"""Length-bucketed, distributed, resumable batch sampling.

Why one sampler for everything: speech and text batches waste most of their compute on padding unless
utterances of similar length are batched together, every subproject must run unchanged under
``torchrun``, and exact resume needs the data position in the checkpoint.

Design: the sampler first forms *global* batches of ``batch_size * num_replicas`` indices, identically on
every rank (same seed, same epoch), then hands rank ``r`` the ``r``-th slice of each. So training on N
ranks with per-rank batch B sees exactly the batches that one process with batch ``N * B`` would see, which
is what makes DDP runs comparable with single-process runs (and is tested).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class BucketBatchSampler(Sampler[list[int]]):
    """Yields lists of dataset indices for one rank.

    Args:
        lengths: one length per dataset item (samples, frames or tokens); ``None`` means no bucketing.
        batch_size: items per batch *per rank*.
        num_replicas / rank: data-parallel world size and this process's rank.
        shuffle: shuffle items before bucketing and the order of batches, reseeded each epoch.
        seed: base seed; the epoch is added so each epoch differs but every rank agrees.
        bucket_size_multiplier: a bucket holds this many global batches; items are sorted by length inside
            a bucket only, so batches stay random across buckets ("sortish" sampling). 1 = no sorting gain.
        drop_last: drop the final incomplete global batch; otherwise it is filled by wrapping around to
            the start so every rank gets the same number of equally sized batches (DDP needs that).
    """

    def __init__(
        self,
        lengths: Sequence[int] | None,
        batch_size: int,
        *,
        num_items: int | None = None,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        bucket_size_multiplier: int = 100,
        drop_last: bool = False,
    ) -> None:
        if lengths is None and num_items is None:
            raise ValueError("BucketBatchSampler needs `lengths` or `num_items`")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is outside [0, num_replicas={num_replicas})")
        self.lengths = None if lengths is None else torch.as_tensor(list(lengths), dtype=torch.long)
        self.num_items = len(self.lengths) if self.lengths is not None else int(num_items or 0)
        if self.num_items == 0:
            raise ValueError("BucketBatchSampler got an empty dataset: check the filelist or manifest")
        self.batch_size = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_size_multiplier = max(1, bucket_size_multiplier)
        self.drop_last = drop_last
        self.epoch = 0
        self.start_batch = 0

    @property
    def global_batch_size(self) -> int:
        return self.batch_size * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Reseed for ``epoch`` (call before iterating, as with DistributedSampler)."""
        self.epoch = epoch

    def set_start(self, batch_index: int) -> None:
        """Skip the first ``batch_index`` batches of the current epoch (used on resume)."""
        if not 0 <= batch_index <= len(self):
            raise ValueError(f"start batch {batch_index} outside [0, {len(self)}]")
        self.start_batch = batch_index

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "start_batch": self.start_batch, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed = int(state["seed"])
        self.set_epoch(int(state["epoch"]))
        self.set_start(int(state["start_batch"]))

    def __len__(self) -> int:
        full, rest = divmod(self.num_items, self.global_batch_size)
        return full if (self.drop_last or rest == 0) else full + 1

    def global_batches(self) -> list[list[int]]:
        """All global batches of the current epoch, identical on every rank."""
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_items, generator=g) if self.shuffle else torch.arange(self.num_items)
        if self.lengths is not None:
            order = self._sort_within_buckets(order)
        gbs = self.global_batch_size
        n_batches = len(self)
        needed = n_batches * gbs
        if needed > len(order):  # wrap around so the last global batch is full
            reps = -(-needed // len(order))
            order = order.repeat(reps)
        order = order[:needed]
        batches = [order[i * gbs : (i + 1) * gbs].tolist() for i in range(n_batches)]
        if self.shuffle:
            perm = torch.randperm(len(batches), generator=g).tolist()
            batches = [batches[i] for i in perm]
        return batches

    def _sort_within_buckets(self, order: torch.Tensor) -> torch.Tensor:
        bucket = self.global_batch_size * self.bucket_size_multiplier
        chunks = []
        for start in range(0, len(order), bucket):
            chunk = order[start : start + bucket]
            # stable sort keeps ties in the (shuffled) order, so results do not depend on the sort algorithm
            idx = torch.sort(self.lengths[chunk], stable=True).indices
            chunks.append(chunk[idx])
        return torch.cat(chunks)

    def __iter__(self) -> Iterator[list[int]]:
        lo, hi = self.rank * self.batch_size, (self.rank + 1) * self.batch_size
        for batch in self.global_batches()[self.start_batch :]:
            yield batch[lo:hi]
        # the skip applies to the resumed epoch only
        self.start_batch = 0
