"""Length-bucketed distributed batching: ranks partition each global batch, buckets cut padding, resume skips."""

import random

import pytest

from ninerepro.data.sampler import BucketBatchSampler


def _lengths(n=200, seed=0):
    rng = random.Random(seed)
    return [rng.randint(10, 1000) for _ in range(n)]


def test_ranks_partition_every_global_batch_and_agree_on_the_order():
    lengths = _lengths()
    ranks = [BucketBatchSampler(lengths, 8, num_replicas=4, rank=r, seed=3) for r in range(4)]
    single = BucketBatchSampler(lengths, 32, num_replicas=1, rank=0, seed=3)
    per_rank = [list(s) for s in ranks]
    assert len({len(b) for b in per_rank}) == 1
    for i, global_batch in enumerate(single):
        assert [item for r in range(4) for item in per_rank[r][i]] == global_batch


def test_bucketing_cuts_padding_compared_with_random_batches():
    lengths = _lengths(1000)

    def padding(sampler):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in sampler)

    bucketed = BucketBatchSampler(lengths, 16, seed=1, bucket_size_multiplier=50)
    plain = BucketBatchSampler(None, 16, num_items=len(lengths), seed=1)
    assert padding(bucketed) < 0.2 * padding(plain)


def test_every_item_is_seen_once_per_epoch_and_epochs_differ():
    s = BucketBatchSampler(_lengths(96), 8, seed=0)
    first = list(s)
    assert sorted(i for b in first for i in b) == list(range(96))
    s.set_epoch(1)
    assert list(s) != first


def test_the_last_global_batch_wraps_around_unless_drop_last():
    s = BucketBatchSampler(None, 4, num_items=10, num_replicas=2, rank=1, shuffle=False)
    # global batches [0..7] and [8, 9, 0, 1, 2, 3, 4, 5]; rank 1 takes the second half of each
    assert list(s) == [[4, 5, 6, 7], [2, 3, 4, 5]]
    assert len(BucketBatchSampler(None, 4, num_items=10, num_replicas=2, drop_last=True)) == 1


def test_resume_position_skips_consumed_batches_for_one_epoch_only():
    s = BucketBatchSampler(_lengths(64), 4, seed=5)
    full = list(s)
    s.load_state_dict({"epoch": 0, "start_batch": 6, "seed": 5})
    assert list(s) == full[6:]
    assert list(s) == full


def test_bad_arguments_are_rejected_with_a_reason():
    with pytest.raises(ValueError, match="empty dataset"):
        BucketBatchSampler([], 4)
    with pytest.raises(ValueError, match="rank 2"):
        BucketBatchSampler(None, 4, num_items=8, num_replicas=2, rank=2)
