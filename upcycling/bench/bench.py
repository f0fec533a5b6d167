"""Forward+backward throughput of our MoE layer vs the transformers Mixtral sparse block and a dense MLP.

All contenders get the same weights and the same tokens: our ``MoELayer`` (topK-then-softmax, SwiGLU, dropless,
grouped matmuls), transformers' ``MixtralSparseMoeBlock`` with its ``eager`` experts loop and, where this
transformers has it, its ``grouped_mm`` experts implementation (Mixtral's softmax → top-k → renormalise equals
our topK-then-softmax, so the routing is the same; the script checks the outputs agree before timing), and
a dense SwiGLU MLP of equal active FLOPs (intermediate width T·F_e). Run from ``upcycling/``:

    python bench/bench.py                 # CPU: small sizes (< 2 min); CUDA: the reference sizes in bf16
    python bench/bench.py --toy --no-append

It prints tokens/s and the ratios and appends them to ``bench/RESULTS.md``, under a header naming the
environment the way every benchmark here does (``repro.envinfo.describe``: date, git hash, device, load,
torch and Python versions).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from repro.atomic import atomic_write_text
from repro.bench_report import BenchFigure, BenchReport
from repro.envinfo import describe, git_hash
from upcycling.config import GPTConfig, MoEConfig
from upcycling.model import DenseMLP
from upcycling.moe.layer import MoELayer

HERE = Path(__file__).resolve().parent
SIZES = {  # hidden, expert ffn, experts, top-k, tokens
    "cuda": (2048, 8192, 8, 2, 16384),  # the H200 reference sizes (reported: transformers 29.6 / 25.9 ms)
    "cpu": (256, 512, 8, 2, 2048),
    "toy": (32, 64, 4, 2, 64),
}


def build(h: int, f: int, n: int, t: int, device: str, dtype: torch.dtype) -> dict[str, torch.nn.Module]:
    """Our layer, the transformers block(s) with our weights, and the equal-FLOP dense MLP."""
    from transformers import MixtralConfig
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    moe = MoEConfig(num_experts=n, topk=t, router_order="topk_softmax")
    ours = MoELayer(h, f, "swiglu", False, moe)
    models: dict[str, torch.nn.Module] = {"ours": ours}
    for impl in ("eager", "grouped_mm"):
        cfg = MixtralConfig(hidden_size=h, intermediate_size=f, num_local_experts=n, num_experts_per_tok=t)
        cfg._experts_implementation = impl
        block = MixtralSparseMoeBlock(cfg)
        with torch.no_grad():
            block.gate.weight.copy_(ours.router.weight)  # [N, h]
            block.experts.gate_up_proj.copy_(ours.experts.w1)  # [N, 2F, h]: gate rows then up rows, as ours
            block.experts.down_proj.copy_(ours.experts.w2)  # [N, h, F]
        models[f"transformers-{impl}"] = block
    dense_cfg = GPTConfig(hidden=h, n_heads=1, ffn_hidden=t * f, activation="swiglu")
    models["dense"] = DenseMLP(dense_cfg)
    return {k: m.to(device=device, dtype=dtype) for k, m in models.items()}


def forward(name: str, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    if name.startswith("transformers"):
        return model(x.unsqueeze(0)).squeeze(0)  # the block wants [B, S, h]
    return model(x)[0]  # ours and DenseMLP return (y, stats)


def time_fwd_bwd(name: str, model: torch.nn.Module, x: torch.Tensor, gy: torch.Tensor, iters: int,
                 warmup: int) -> float:
    """Seconds per forward+backward (gradients of inputs and weights)."""
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    for i in range(warmup + iters):
        if i == warmup:
            sync()
            start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        x.grad = None
        forward(name, model, x).backward(gy)
    sync()
    return (time.perf_counter() - start) / iters


def agreement(models: dict[str, torch.nn.Module], x: torch.Tensor) -> dict[str, float]:
    """Relative difference of each transformers block's output from ours on the same tokens."""
    with torch.no_grad():
        ref = forward("ours", models["ours"], x).float()
        return {k: ((forward(k, m, x).float() - ref).norm() / ref.norm()).item()
                for k, m in models.items() if k.startswith("transformers")}


def run(args: argparse.Namespace) -> tuple[str, dict[str, float]]:
    """Time every contender; returns the markdown report and tokens/s per contender."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype or ("bf16" if device == "cuda" else "fp32")]
    h, f, n, t, tokens = SIZES["toy" if args.toy else device]
    tokens = args.tokens or tokens
    torch.manual_seed(0)
    models = build(h, f, n, t, device, dtype)
    x = torch.randn(tokens, h, device=device, dtype=dtype, requires_grad=True)
    gy = torch.randn(tokens, h, device=device, dtype=dtype)
    diffs = agreement(models, x)
    limit = 1e-4 if dtype == torch.float32 else 5e-2
    if any(d > limit for d in diffs.values()):
        raise RuntimeError(f"the transformers block disagrees with ours on the same weights: {diffs}")
    seconds = {k: time_fwd_bwd(k, m, x, gy, args.iters, args.warmup) for k, m in models.items()}
    tps = {k: tokens / s for k, s in seconds.items()}
    import transformers

    env = describe(device)
    env["git"] = git_hash(HERE.parent)  # "+dirty" when this subproject's tracked files differ from HEAD
    lines = [f"## {env['date']} · {env['git']} · {device}: {env['device']}, load {env['load']}",
             f"torch {env['torch']}, transformers {transformers.__version__}, Python {env['python']}; "
             f"hidden {h}, expert ffn {f}, "
             f"{n} experts top-{t}, {tokens} tokens, {str(dtype).removeprefix('torch.')}, {args.iters} timed "
             f"iterations after {args.warmup} warm-up; max relative output difference vs ours: "
             + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()), "",
             "| contender | fwd+bwd ms | tokens/s |", "|---|---:|---:|"]
    labels = {"ours": "ours (MoELayer)", "transformers-eager": "transformers Mixtral block, eager",
              "transformers-grouped_mm": "transformers Mixtral block, grouped_mm",
              "dense": f"dense SwiGLU MLP, ffn {t * f} (equal active FLOPs)"}
    lines += [f"| {labels[k]} | {seconds[k] * 1e3:.1f} | {tps[k]:,.0f} |" for k in models]
    lines += ["", "ratios (time of the other / time of ours; > 1 means ours is faster): "
              + ", ".join(f"vs {k} {seconds[k] / seconds['ours']:.2f}×" for k in models if k.startswith("transformers"))
              + f"; ours costs {seconds['ours'] / seconds['dense']:.2f}× the equal-FLOP dense MLP", ""]
    return "\n".join(lines), tps


def append_results(path: Path, report: str) -> None:
    head = ("# Benchmark results: MoE layer forward+backward\n\nOne section per run of `bench/bench.py` "
            "(newest last). Reference reported to us for an H200 (not measured here): transformers block "
            "29.6 ms eager / 25.9 ms grouped_mm, dense MLP of equal FLOPs 16.4 ms (hidden 2048, expert ffn 8192, "
            "8 experts top-2, 16,384 tokens, bf16).\n\n")
    old = path.read_text(encoding="utf-8") if path.is_file() else head
    atomic_write_text(path, old.rstrip("\n") + "\n\n" + report)


def json_report(args: argparse.Namespace, tps: dict[str, float]) -> BenchReport:
    """tokens/s of ours against each transformers block, for ``make gpu-check`` (target: 1.5x grouped_mm)."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    report = BenchReport("upcycling", device, official_source="transformers MixtralSparseMoeBlock",
                         settings={"toy": args.toy, "dtype": args.dtype, "tokens": args.tokens, "iters": args.iters})
    for name, speed in tps.items():
        if name.startswith("transformers"):
            impl = name.removeprefix("transformers-")
            report.add(BenchFigure(f"MoE layer fwd+bwd vs Mixtral block ({impl})", "tokens/s", tps["ours"], speed,
                                   target=1.5 if impl == "grouped_mm" else None,
                                   baseline=f"transformers Mixtral block, {impl}"))
    report.add(BenchFigure("MoE layer fwd+bwd vs dense MLP of equal active FLOPs", "tokens/s", tps["ours"],
                           tps["dense"], baseline="dense SwiGLU MLP (a floor, not a competitor)"))
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    p.add_argument("--dtype", choices=["fp32", "bf16"], help="default: bf16 on cuda, fp32 on cpu")
    p.add_argument("--tokens", type=int, default=0, help="override the token count")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--toy", action="store_true", help="tiny sizes (tests)")
    p.add_argument("--results", default=str(HERE / "RESULTS.md"))
    p.add_argument("--no-append", action="store_true", help="print only")
    p.add_argument("--json", help="also write the figures as a repro.bench_report JSON file")
    args = p.parse_args(argv)
    report, tps = run(args)
    print(report)
    if args.json:
        json_report(args, tps).write(args.json)
        print(f"figures written to {args.json}")
    if not args.no_append:
        append_results(Path(args.results), report)
        print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
