"""Run by ``test_megatron.py`` in a fresh process (not collected by pytest): our ``torch_dist`` checkpoints,
written for one rank, loaded by megatron-core 0.16.1 on 2 forked gloo ranks at tensor parallel 2 (dense) and
expert parallel 2 (MoE), give our logits. Megatron reshards our global tensors itself; this checks that the
layer/expert axes and names we write are the ones its parallel layouts read.

The same test-only CUDA patches as ``test_megatron.py`` (megatron-core assumes CUDA in four places).
Prints one ``<case> TP=<t> EP=<e> max_abs_diff=<x>`` line per case; exits 1 if a case is off by more than 2e-5.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import torch.multiprocessing as mp

warnings.filterwarnings("ignore")
torch.cuda.current_device = lambda: "cpu"
torch.cuda.synchronize = lambda *a: None
import megatron.core.tensor_parallel as tp  # noqa: E402
import megatron.core.transformer.moe.moe_utils as moe_utils  # noqa: E402
from megatron.core import dist_checkpointing, parallel_state  # noqa: E402

moe_utils.te_general_gemm = getattr(moe_utils, "te_general_gemm", None)


class _NoRngTracker:
    def fork(self, *a, **k):
        return contextlib.nullcontext()


tp.get_cuda_rng_tracker = lambda *a, **k: _NoRngTracker()
_spec = importlib.util.spec_from_file_location("megatron_cases", Path(__file__).with_name("test_megatron.py"))
tm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tm)

from upcycling.megatron.checkpoint import save  # noqa: E402
from upcycling.model import build_model  # noqa: E402

CASES = [("dense-swiglu-rms-gqa-partial-rope", 2, 1), ("moe-relu2-E4G2T2-softmax_topk", 1, 2)]


def _tokens(cfg) -> torch.Tensor:
    return torch.randint(0, cfg.vocab_size, (2, tm.S), generator=torch.Generator().manual_seed(3))


def worker(rank: int, port: int, case: str, tp_size: int, ep_size: int, ckpt: str, out: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp_size, expert_model_parallel_size=ep_size)
    cfg, moe = tm.CASES[case]
    model = tm._mcore_model(cfg, moe)
    model.load_state_dict(dist_checkpointing.load(model.sharded_state_dict(), ckpt), strict=False)
    logits = tm._mcore_logits(model, _tokens(cfg))
    if tp_size > 1:  # the output layer is vocab-parallel
        logits = tp.gather_from_tensor_model_parallel_region(logits.contiguous())
    if rank == 0:
        torch.save(logits, out)
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)  # past the barrier; skip gloo's teardown (see upcycling.distributed_check)


def main() -> int:
    bad = 0
    for case, tp_size, ep_size in CASES:
        cfg, moe = tm.CASES[case]
        state = tm._random_state(cfg, moe)
        tmp = Path(tempfile.mkdtemp())
        ckpt = save(state, cfg, moe, tmp / "ckpt", fmt="torch_dist")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        mp.start_processes(worker, args=(port, case, tp_size, ep_size, str(ckpt), str(tmp / "logits.pt")), nprocs=2,
                           join=True, start_method="fork")
        model = build_model(cfg, moe).eval()
        model.load_state_dict(state)
        with torch.no_grad():
            want = model(_tokens(cfg)).logits
        diff = (torch.load(tmp / "logits.pt", weights_only=True) - want).abs().max().item()
        print(f"{case} TP={tp_size} EP={ep_size} max_abs_diff={diff:.3e}", flush=True)
        bad += diff > 2e-5
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
