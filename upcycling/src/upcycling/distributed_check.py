"""Process entry points for the 2-rank gloo checks of ``upcycling.sharded`` and FSDP2 training on CPU.

They live in an importable module so that ``torch.multiprocessing.spawn`` can pickle them by name (they also
run by hand on any machine with two cores); ``tests/test_sharded.py`` starts them with ``fork`` instead, so
the ranks inherit the imported torch.distributed/FSDP modules (importing them again in two fresh processes
was most of a 50 s test on the shared 2 cores).

Both leave through ``_leave`` after a barrier: the work is on disk and every rank is past it, and gloo's C++
teardown (``destroy_process_group`` followed by interpreter exit) intermittently aborts a finished rank with
SIGABRT on a loaded machine ("terminate called without an active exception"; the same failure ninerepro's toy
FSDP test had), which the parent reports as a failed rank although training succeeded.
"""

from __future__ import annotations

import json
import os
import sys

import torch


def _env(rank: int, world: int, port: int) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))


def _leave() -> None:
    """Barrier, flush, and exit without gloo's teardown (see the module docstring)."""
    import torch.distributed as dist

    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _fail() -> None:
    from ninerepro.train import close_distributed

    close_distributed()


def sharded_load_worker(rank: int, world: int, port: int, run_json: str, dense: str, out: str) -> None:
    """Meta build + per-shard load of ``dense`` upcycled to the run's MoE; saves the gathered weights, each
    parameter's local shard size and the logits on fixed tokens to ``out/rank{rank}.pt``."""
    import torch.distributed as dist

    from ninerepro.train.config import from_dict
    from upcycling.config import RunConfig
    from upcycling.sharded import LazyUpcycledSource, build_sharded

    _env(rank, world, port)
    torch.set_num_threads(1)
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
    except BaseException:
        _fail()
        raise
    _leave()


def train_worker(rank: int, world: int, port: int, run_json: str, run_dir: str) -> None:
    """``upcycling.train.run`` on one of ``world`` gloo ranks; saves the final step (and, on rank 0, the full
    trained weights gathered from the FSDP shards) to ``run_dir/rank{rank}.pt``."""
    from ninerepro.train.config import from_dict
    from upcycling.config import RunConfig
    from upcycling.train import run

    _env(rank, world, port)
    torch.set_num_threads(1)
    cfg = from_dict(RunConfig, json.loads(run_json))
    try:
        trainer = run(cfg, run_dir)
        torch.save({"step": trainer.state.step, "model": trainer.state_dict()["model"]}, f"{run_dir}/rank{rank}.pt")
    except BaseException:
        _fail()
        raise
    _leave()
