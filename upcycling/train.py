"""Train a dense or MoE GPT on a token file.

    python train.py -c configs/tiny.json --run-dir runs/dense [key=value ...]
    python train.py -c configs/nemotron4_15b_e8g1t2.json --run-dir x --dry-run --gpus 8 --gpus 64
    python train.py -c configs/tiny.json --run-dir runs/moe --init-from runs/dense/ckpt_000000600.pt \
        --upcycle E8G1T2 moe.router_order=softmax_topk
    torchrun --nproc_per_node=8 train.py -c configs/nemotron4_15b_e8g1t2.json --run-dir runs/x train.fsdp=true

Re-running the same command resumes from the run folder's newest checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from ninerepro.train import close_distributed, load_config
from upcycling.config import MoEConfig, RunConfig
from upcycling.train import run


def parse(argv: list[str] | None = None) -> tuple[RunConfig, str]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-c", "--config", required=True, help="JSON config (configs/*.json)")
    p.add_argument("--run-dir", required=True, help="folder for checkpoints, metrics.jsonl, config.json")
    p.add_argument("--init-from", default="", help="dense checkpoint to start from (a fresh run folder only)")
    p.add_argument("--upcycle", default="", help="paper notation of the MoE to upcycle into, e.g. E8G1T2")
    p.add_argument("--debug", action="store_true", help="show the traceback of a refusal")
    p.add_argument("--dry-run", action="store_true",
                   help="build the model on the meta device, print the estimated per-GPU memory and exit")
    p.add_argument("--gpus", type=int, action="append", help="GPU counts for --dry-run (repeatable; default 8, 64)")
    p.add_argument("--gpu-memory", type=float, default=80.0, help="GB per GPU that --dry-run compares with")
    p.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    args = p.parse_args(argv)
    _DEBUG[0] = args.debug
    _DRY[:] = [args.dry_run, args.gpus or [8, 64], args.gpu_memory]
    cfg = load_config(RunConfig, args.config, args.overrides)
    if args.init_from:
        cfg.init.init_from = args.init_from
    if args.upcycle:
        base = dataclasses.asdict(cfg.moe) if cfg.moe is not None else {}
        base.pop("num_experts", None), base.pop("granularity", None), base.pop("topk", None)
        cfg = dataclasses.replace(cfg, moe=MoEConfig.from_notation(args.upcycle, **base))
    return cfg, args.run_dir


_DEBUG = [False]
_DRY: list = [False, [8, 64], 80.0]


def main(argv: list[str] | None = None) -> int:
    """Refusals (bad config values, unreadable or mismatched --init-from) end in one line and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg, run_dir = parse(argv)
        if _DRY[0]:
            from upcycling.memory import dry_run_report

            print(dry_run_report(cfg, _DRY[1], _DRY[2]))
            return 0
        try:
            run(cfg, run_dir)
        finally:
            close_distributed()
    except (ValueError, KeyError, OSError) as e:
        if _DEBUG[0]:
            raise
        print(f"train.py: error: {e.args[0] if isinstance(e, KeyError) and e.args else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
