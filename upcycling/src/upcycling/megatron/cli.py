"""``upcycle to-megatron`` / ``upcycle from-megatron``: our checkpoints (or HF folders) ↔ Megatron-LM folders.

``to-megatron --moe E8G1T2`` upcycles on the way (our math, ``upcycling.upcycle``) and writes the MoE in
Megatron's layout; without ``--moe`` the model is written as it is (dense for Megatron's own
``--moe-use-upcycling``, or an MoE of ours). ``from-megatron`` writes one of our checkpoints that
``train.py --init-from`` and ``upcycle upcycle --dense`` take.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from upcycling.config import ROUTER_SPELLINGS


def add_megatron_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("to-megatron", help="write our checkpoint / HF folder (optionally upcycled) as a Megatron-LM "
                                           "checkpoint folder (torch_dist or legacy)")
    p.add_argument("--model", required=True, help="our checkpoint (.pt) or an HF Llama/Nemotron/Mixtral folder")
    p.add_argument("--out", required=True, help="Megatron save folder to create (iter_N/ inside)")
    p.add_argument("--moe", default="", help="upcycle first to this paper notation, e.g. E8G1T2 (dense sources only)")
    p.add_argument("--router", choices=sorted(ROUTER_SPELLINGS), default="softmax_topk")
    p.add_argument("--no-weight-scaling", action="store_true")
    p.add_argument("--glu-scaling", choices=["paper", "exact"], default="paper")
    p.add_argument("--seed", type=int, default=0, help="seed of the random router rows")
    p.add_argument("--format", choices=["torch_dist", "legacy"], default="torch_dist",
                   help="torch_dist (Megatron's default, loads at any TP/EP/PP) or legacy (--ckpt-format torch)")
    p.add_argument("--iteration", type=int, default=1)
    p.set_defaults(func=_run_to)
    q = sub.add_parser("from-megatron", help="read a Megatron-LM GPT checkpoint into one of our checkpoints (.pt)")
    q.add_argument("--load", required=True, help="Megatron save folder, iter_N folder or model_optim_rng.pt")
    q.add_argument("--out", required=True, help="our checkpoint to write (.pt)")
    q.add_argument("--overwrite", action="store_true")
    q.set_defaults(func=_run_from)


def _run_to(args: argparse.Namespace) -> int:
    from upcycling.checkpoints import initial_state, read_source
    from upcycling.config import MoEConfig
    from upcycling.megatron.checkpoint import save

    state, cfg, moe = read_source(args.model)
    if args.moe:
        moe = MoEConfig.from_notation(args.moe, router_order=ROUTER_SPELLINGS[args.router])
        state = initial_state(args.model, cfg, moe, weight_scaling=not args.no_weight_scaling, router_init_std=0.02,
                              seed=args.seed, glu_scaling=args.glu_scaling)
    where = save(state, cfg, moe, args.out, iteration=args.iteration, fmt=args.format)
    print(f"wrote {where} ({args.format}, {'dense' if moe is None else moe.name()}, "
          f"{sum(v.numel() for v in state.values()) / 1e6:.2f} M parameters)")
    return 0


def _run_from(args: argparse.Namespace) -> int:
    import torch

    from ninerepro.atomic import atomic_save
    from ninerepro.train.checkpoint import FORMAT, FORMAT_VERSION, versions
    from upcycling.megatron.checkpoint import load

    target = Path(args.out)
    if target.exists() and not args.overwrite:
        raise FileExistsError(f"--out {args.out} exists; pick a new path or pass --overwrite to replace it")
    state, cfg, moe = load(args.load)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), "model": state,
               "config": {"model": dataclasses.asdict(cfg), "moe": None if moe is None else dataclasses.asdict(moe)},
               "converted_from": str(args.load)}
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(target, lambda f: torch.save(payload, f))
    print(f"wrote {args.out} ({'dense' if moe is None else moe.name()}) from {args.load}")
    return 0
