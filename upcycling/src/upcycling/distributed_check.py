"""Process entry points for the 2-rank gloo checks of ``upcycling.sharded`` and FSDP2 training on CPU.

They live in an importable module because ``torch.multiprocessing.spawn`` pickles the function by name
(``tests/test_sharded.py`` spawns them; they also run by hand on any machine with two cores).
"""

from __future__ import annotations

import json
import os

import torch


def _env(rank: int, world: int, port: int) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))


def sharded_load_worker(rank: int, world: int, port: int, run_json: str, dense: str, out: str) -> None:
    """Meta build + per-shard load of ``dense`` upcycled to the run's MoE; saves the gathered weights, each
    parameter's local shard size and the logits on fixed tokens to ``out/rank{rank}.pt``."""
    import torch.distributed as dist

    from repro.train.config import from_dict
    from upcycling.config import RunConfig
    from upcycling.sharded import LazyUpcycledSource, build_sharded

    _env(rank, world, port)
    cfg = from_dict(RunConfig, json.loads(run_json))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        source = LazyUpcycledSource(dense, cfg.model, cfg.moe, weight_scaling=cfg.init.weight_scaling,
                                    glu_scaling=cfg.init.glu_scaling, router_init_std=cfg.init.router_init_std,
                                    seed=cfg.train.seed)
        model = build_sharded(cfg.model, cfg.moe, source, torch.device("cpu"), "fp32")
        local = {k: p.to_local().numel() for k, p in model.named_parameters()}
        full = {k: p.full_tensor() for k, p in model.named_parameters()}
        tokens = torch.arange(2 * cfg.model.max_seq_len).view(2, -1) % cfg.model.vocab_size
        with torch.no_grad():
            logits = model(tokens).logits
        torch.save({"full": full, "local": local, "logits": logits}, f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def train_worker(rank: int, world: int, port: int, run_json: str, run_dir: str) -> None:
    """``upcycling.train.run`` on one of ``world`` gloo ranks; saves the final step to ``run_dir/rank{rank}.pt``."""
    from repro.train import close_distributed
    from repro.train.config import from_dict
    from upcycling.config import RunConfig
    from upcycling.train import run

    _env(rank, world, port)
    cfg = from_dict(RunConfig, json.loads(run_json))
    try:
        trainer = run(cfg, run_dir)
        torch.save({"step": trainer.state.step}, f"{run_dir}/rank{rank}.pt")
    finally:
        close_distributed()
