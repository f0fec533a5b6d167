"""Two gloo processes average gradients exactly like one process on the concatenated batch."""

import torch
import torch.multiprocessing as mp

from ninerepro.train.toy import ddp_worker, run_single


def test_two_rank_ddp_matches_single_process_on_the_concatenated_batch(tmp_path):
    per_rank_batch, steps = 4, 5
    ddp_dir, single_dir = tmp_path / "ddp", tmp_path / "single"
    ddp_dir.mkdir()
    mp.spawn(ddp_worker, args=(2, str(tmp_path / "init"), str(ddp_dir), per_rank_batch, steps), nprocs=2, join=True)
    rank0 = torch.load(ddp_dir / "weights_rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_dir / "weights_rank1.pt", weights_only=True)
    single = run_single(single_dir, 2 * per_rank_batch, steps)
    for k in single:
        assert torch.equal(rank0[k], rank1[k]), f"ranks disagree on {k}"
        assert torch.allclose(rank0[k], single[k], atol=1e-6, rtol=0), f"DDP differs from single process on {k}"
    # the weights moved: the comparison is not between two untouched initialisations
    from ninerepro.train.toy import ToyModel

    torch.manual_seed(0)
    init = ToyModel(dropout=0.0).state_dict()
    assert any(not torch.allclose(init[k], single[k]) for k in single)
    # only rank 0 wrote a checkpoint and the metrics file
    assert (ddp_dir / "latest.txt").is_file() and (ddp_dir / "metrics.jsonl").is_file()


def test_fsdp2_training_and_resume_match_the_single_process_run(tmp_path):
    run_dir = tmp_path / "fsdp"
    run_dir.mkdir()
    mp.spawn(ddp_worker, args=(2, str(tmp_path / "init1"), str(run_dir), 4, 2, True), nprocs=2, join=True)
    mp.spawn(ddp_worker, args=(2, str(tmp_path / "init2"), str(run_dir), 4, 4, True), nprocs=2, join=True)
    sharded = torch.load(run_dir / "weights_rank0.pt", weights_only=True)
    single = run_single(tmp_path / "single", 8, 4)
    for k in single:
        assert torch.allclose(sharded[k], single[k], atol=1e-6, rtol=0), k
    assert (run_dir / "ckpt_000000002.pt").exists() or (run_dir / "ckpt_000000004.pt").exists()


def test_fsdp_shards_the_members_of_module_lists_not_the_list():
    from torch import nn

    from ninerepro.train.distributed import _shardable_blocks

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(4, 2)
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.frozen = nn.Linear(2, 2).requires_grad_(False)

    model = Stack()
    assert _shardable_blocks(model) == [model.embed, model.blocks[0], model.blocks[1]]
