"""A tiny regression task used by the runtime's tests and as a worked example of the Trainer API.

It has dropout (so RNG restore matters for exact resume) and an item-wise loss averaged over the batch
(so DDP's gradient averaging equals one process on the concatenated batch). The DDP worker lives here,
in an importable module, because ``torch.multiprocessing.spawn`` pickles the function by name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ninerepro.data.sampler import BucketBatchSampler
from ninerepro.train.distributed import DistEnv
from ninerepro.train.trainer import StepOutput, Trainer
from ninerepro.train.trainer_config import OptimizerConfig, TrainerConfig


class ToyRegression(Dataset):
    def __init__(self, n: int = 64, dim: int = 8, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, dim, generator=g)
        w = torch.randn(dim, 1, generator=g)
        self.y = self.x @ w + 0.1 * torch.randn(n, 1, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class ToyModel(nn.Module):
    def __init__(self, dim: int = 8, hidden: int = 16, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Dropout(dropout), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def toy_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
    x, y = batch
    loss = nn.functional.mse_loss(model(x), y)
    return StepOutput(loss=loss, samples=len(x))


def toy_loader(dataset: Dataset, batch_size: int, rank: int = 0, world: int = 1, seed: int = 0) -> DataLoader:
    sampler = BucketBatchSampler(None, batch_size, num_items=len(dataset), num_replicas=world, rank=rank,
                                 seed=seed, drop_last=True)
    return DataLoader(dataset, batch_sampler=sampler)


def toy_trainer_config(**overrides) -> TrainerConfig:
    base = dict(max_steps=6, log_every=1, ckpt_every=1000, keep_last=0, tensorboard=False, progress=False,
                device="cpu", optimizer=OptimizerConfig(name="adam", lr=1e-2))
    base.update(overrides)
    return TrainerConfig(**base)


def ddp_worker(
    rank: int, world: int, init_file: str, run_dir: str, batch_size: int, max_steps: int, fsdp: bool = False
) -> None:
    """One rank of a gloo DDP (or FSDP2) run; saves its final full weights to ``run_dir/weights_rank<r>.pt``."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        env = DistEnv(rank=rank, local_rank=rank, world_size=world, device=torch.device("cpu"))
        torch.manual_seed(0)
        model = ToyModel(dropout=0.0)
        cfg = toy_trainer_config(max_steps=max_steps, fsdp=fsdp)
        loader = toy_loader(ToyRegression(), batch_size, rank=rank, world=world)
        trainer = Trainer(cfg, model, toy_step, loader, run_dir, env=env)
        trainer.fit()
        weights = trainer.state_dict()["model"]  # gathers full tensors from FSDP shards
        torch.save(weights, os.path.join(run_dir, f"weights_rank{rank}.pt"))
        dist.barrier()  # every rank has written its weights
    except BaseException:
        dist.destroy_process_group()
        raise
    # The results are on disk and every rank passed the barrier. Leave without the gloo/FSDP C++ teardown:
    # on a loaded machine it intermittently aborts after the work is done ("terminate called without an
    # active exception"), which mp.spawn would report as a failed rank.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_single(run_dir: str | Path, batch_size: int, max_steps: int) -> dict[str, torch.Tensor]:
    """The one-process reference for ``ddp_worker`` with the same global batch."""
    torch.manual_seed(0)
    model = ToyModel(dropout=0.0)
    cfg = toy_trainer_config(max_steps=max_steps)
    Trainer(cfg, model, toy_step, toy_loader(ToyRegression(), batch_size), run_dir,
            env=DistEnv(device=torch.device("cpu"))).fit()
    return model.state_dict()
