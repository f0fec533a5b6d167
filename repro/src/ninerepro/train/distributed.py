"""Process-group set-up and model wrapping for ``torchrun`` (single node or multi-node).

The same entry point runs as one plain process or under ``torchrun --nproc_per_node=N [--nnodes ...]``:
torchrun exports RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, and we read them here and
nowhere else. NCCL on CUDA, gloo on CPU. The state lives in a ``DistEnv`` value passed around explicitly,
not in module globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def pick_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` = this rank's CUDA device when present, else CPU; ``cpu`` / ``cuda`` / ``cuda:1`` force one."""
    if preference == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device={preference!r} asked for CUDA but no GPU is visible; use device=cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device


def init_distributed(device_preference: str = "auto") -> DistEnv:
    """Join the process group when launched by torchrun; a plain run returns a one-process DistEnv."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_preference, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistEnv(rank=rank, local_rank=local_rank, world_size=world_size, device=device)


def close_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, env: DistEnv, *, fsdp: bool = False) -> nn.Module:
    """Wrap for data parallelism: DDP by default, FSDP2 ``fully_shard`` when the model outgrows a GPU.

    The optimizer must be built *after* this call (FSDP replaces parameters with sharded DTensors).
    """
    if not env.is_distributed:
        return model
    if fsdp:
        from torch.distributed.fsdp import FSDPModule, fully_shard

        # shard each block that holds parameters, then the root, as torchtitan does per transformer block;
        # containers (ModuleList/ModuleDict) have no forward of their own, so their members are the blocks.
        # A model the caller already sharded (e.g. built on the meta device with its own MixedPrecisionPolicy)
        # is left as it is, and so are blocks it sharded: fully_shard may be applied to a module only once.
        if isinstance(model, FSDPModule):
            return model
        for block in _shardable_blocks(model):
            if not isinstance(block, FSDPModule):
                fully_shard(block)
        if not isinstance(model, FSDPModule):
            fully_shard(model)
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    device_ids = [env.device.index] if env.device.type == "cuda" else None
    return DDP(model, device_ids=device_ids)


def _shardable_blocks(model: nn.Module) -> list[nn.Module]:
    blocks: list[nn.Module] = []
    for child in model.children():
        members = list(child.children()) if isinstance(child, nn.ModuleList | nn.ModuleDict) else [child]
        blocks += [m for m in members if any(p.requires_grad for p in m.parameters())]
    return blocks


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside DDP / torch.compile wrappers (what checkpoints store)."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def all_reduce_mean(value: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Mean of a tensor over ranks (a no-op for one process)."""
    if env.is_distributed:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= env.world_size
    return value


def all_gather_objects(obj: object, env: DistEnv) -> list[object]:
    if not env.is_distributed:
        return [obj]
    out: list[object] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(env: DistEnv) -> None:
    if env.is_distributed:
        dist.barrier()
