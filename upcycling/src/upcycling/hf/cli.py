"""The ``convert`` subcommand of the ``upcycle`` console script (registered by ``upcycling.cli``)."""

from __future__ import annotations

import argparse

from upcycling.config import ROUTER_SPELLINGS


def add_convert_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert", help="upcycle a dense HF checkpoint (Llama/Mistral/Qwen2/Qwen3) into an HF MoE checkpoint",
        description="Write an MoE checkpoint (Mixtral, Qwen2-MoE or Qwen3-MoE layout) that "
                    "transformers.AutoModelForCausalLM.from_pretrained loads without custom code.")
    p.add_argument("--dense", required=True, help="dense model folder (config.json + safetensors)")
    p.add_argument("--out", required=True, help="new folder for the MoE model (must not exist or be empty)")
    p.add_argument("--num-experts", type=int, required=True, help="N = E·G routed experts")
    p.add_argument("--topk", type=int, required=True, help="T experts per token (a multiple of G)")
    p.add_argument("--granularity", type=int, default=1, help="G: each expert is 1/G of the dense MLP (default 1)")
    p.add_argument("--router", choices=sorted(ROUTER_SPELLINGS), default="softmax-topk",
                   help="softmax-topk (paper's choice, Qwen2-MoE layout) or topk-softmax (Mixtral-equivalent)")
    p.add_argument("--no-weight-scaling", action="store_true", help="do not scale the expert weights (Eq. 2)")
    p.add_argument("--glu-scaling", choices=["paper", "exact"], default="paper",
                   help="paper: s^(1/3) on gate, up, down; exact: s^(1/2) on up and down (dense-equal at init)")
    p.add_argument("--aux-loss-coeff", type=float, default=1e-2,
                   help="the paper's per-layer load-balancing α (1e-2); config.json gets "
                   "router_aux_loss_coef = α·layers/topk, under which transformers' pooled loss is the paper's")
    p.add_argument("--layout", choices=["auto", "mixtral", "qwen2_moe", "qwen3_moe"], default="auto",
                   help="auto: Qwen3-MoE from Qwen3; Mixtral for coarse topk-softmax from Llama/Mistral; "
                   "Qwen2-MoE otherwise")
    p.add_argument("--max-shard-size", default="5GB", help="largest output shard, e.g. 5GB or 500MB")
    p.add_argument("--seed", type=int, default=0, help="seed of the random router rows")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--check", action="store_true",
                   help="afterwards load both models (fp32, CPU: needs memory for both) and compare their logits")
    p.set_defaults(func=run_convert)
    return p


def run_convert(args: argparse.Namespace) -> int:
    from upcycling.hf.convert import convert_checkpoint

    report = convert_checkpoint(
        args.dense, args.out, num_experts=args.num_experts, topk=args.topk, granularity=args.granularity,
        router_order=ROUTER_SPELLINGS[args.router], weight_scaling=not args.no_weight_scaling,
        glu_scaling=args.glu_scaling,
        aux_loss_coeff=args.aux_loss_coeff, layout=args.layout, seed=args.seed, max_shard_size=args.max_shard_size,
        overwrite=args.overwrite)
    print(report)
    if args.check:
        from upcycling.hf.check import compare_logits

        diff = compare_logits(args.dense, args.out)
        print(f"logits vs dense on random tokens: max |Δ| {diff['max_abs']:.3g}, relative {diff['rel']:.3g}, "
              f"top-1 agreement {diff['top1_agree']:.1%}")
    return 0
