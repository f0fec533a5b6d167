"""Forward+backward throughput of our MoE layer vs the transformers Mixtral sparse block and a dense MLP,
and of a whole causal-LM training step, MoE vs dense — timed the way ``train.py`` runs them.

As trained: every parameter is fp32 (the master copy) and the forward runs inside the Trainer's autocast
(``ninerepro.train.precision.autocast``: bf16 on a GPU, which is what ``train.precision=auto`` picks there; off
on CPU). Nothing is cast to bf16 by hand, so the experts see exactly the inputs they see in training.

All layer contenders get the same weights and the same tokens: our ``MoELayer`` (topK-then-softmax, SwiGLU,
dropless, grouped matmuls), transformers' ``MixtralSparseMoeBlock`` with each experts implementation this
transformers has (``eager`` loop, ``batched_mm``, ``grouped_mm``; Mixtral's softmax → top-k → renormalise
equals our topK-then-softmax, so the routing is the same; the script checks the outputs agree before
timing), and a dense SwiGLU MLP of equal active FLOPs (intermediate width T·F_e). ``--step`` adds one
AdamW training step of our GPT (E8G1T2 vs its dense parent) in the Trainer's autocast. Run from
``upcycling/``:

    python bench/bench.py                 # CPU: small sizes (< 2 min); CUDA: the reference sizes, bf16 autocast
    python bench/bench.py --toy --step --no-append

It prints tokens/s and the ratios and appends them to ``bench/RESULTS.md``, under a header naming the
environment the way every benchmark here does (``ninerepro.envinfo.describe``: date, git hash, device, load,
torch and Python versions).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ninerepro.atomic import atomic_write_text
from ninerepro.bench_report import BenchFigure, BenchReport
from ninerepro.envinfo import describe, git_hash
from ninerepro.train.precision import autocast
from upcycling.config import GPTConfig, MoEConfig
from upcycling.loss import total_loss
from upcycling.model import DenseMLP, build_model
from upcycling.moe.layer import MoELayer

HERE = Path(__file__).resolve().parent
SIZES = {  # hidden, expert ffn, experts, top-k, tokens
    "cuda": (2048, 8192, 8, 2, 16384),  # the H200 reference sizes (reported: transformers 29.6 / 25.9 ms)
    "cpu": (256, 512, 8, 2, 2048),
    "toy": (32, 64, 4, 2, 64),
}
STEP_SIZES = {  # hidden, layers, heads, dense ffn, sequence, batch (the HF reference: h1024 L16, 16k tokens)
    "cuda": (1024, 16, 16, 4096, 2048, 8),
    "cpu": (128, 4, 4, 512, 256, 4),
    "toy": (32, 2, 4, 64, 16, 2),
}
EXPERTS_IMPLEMENTATIONS = ("eager", "batched_mm", "grouped_mm")


def build(h: int, f: int, n: int, t: int, device: str) -> dict[str, torch.nn.Module]:
    """Our layer, the transformers block(s) with our weights, and the equal-FLOP dense MLP; fp32 parameters."""
    from transformers import MixtralConfig
    from transformers.integrations.moe import ALL_EXPERTS_FUNCTIONS
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    moe = MoEConfig(num_experts=n, topk=t, router_order="topk_softmax")
    ours = MoELayer(h, f, "swiglu", False, moe)
    models: dict[str, torch.nn.Module] = {"ours": ours}
    known = set(ALL_EXPERTS_FUNCTIONS.keys()) | {"eager"}
    for impl in (i for i in EXPERTS_IMPLEMENTATIONS if i in known):
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
    return {k: m.to(device=device) for k, m in models.items()}


def forward(name: str, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    if name.startswith("transformers"):
        return model(x.unsqueeze(0)).squeeze(0)  # the block wants [B, S, h]
    return model(x)[0]  # ours and DenseMLP return (y, stats)


def time_fwd_bwd(name: str, model: torch.nn.Module, x: torch.Tensor, gy: torch.Tensor, iters: int,
                 warmup: int, precision: str) -> float:
    """Seconds per forward+backward (gradients of inputs and weights), forward in the Trainer's autocast."""
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    for i in range(warmup + iters):
        if i == warmup:
            sync()
            start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        x.grad = None
        with autocast(precision, x.device):
            y = forward(name, model, x)
        y.backward(gy.to(y.dtype))
    sync()
    return (time.perf_counter() - start) / iters


def time_train_step(size: tuple[int, ...], device: str, precision: str, iters: int, warmup: int) -> dict[str, float]:
    """Seconds per AdamW step of our causal LM, dense vs E8G1T2 (the dense MLP upcycled), as train.py runs it."""
    h, layers, heads, ffn, seq, batch = size
    cfg = GPTConfig(vocab_size=32000 if device == "cuda" else 256, n_layers=layers, hidden=h, n_heads=heads,
                    ffn_hidden=ffn, activation="swiglu", max_seq_len=seq)
    out = {}
    for name, moe in (("dense", None), ("E8G1T2", MoEConfig.from_notation("E8G1T2", router_order="softmax_topk"))):
        torch.manual_seed(0)
        model = build_model(cfg, moe).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device == "cuda")
        x = torch.randint(0, cfg.vocab_size, (batch, seq), device=device)
        y = torch.randint(0, cfg.vocab_size, (batch, seq), device=device)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        for i in range(warmup + iters):
            if i == warmup:
                sync()
                start = time.perf_counter()
            with autocast(precision, torch.device(device)):
                loss, _ = total_loss(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        sync()
        out[name] = (time.perf_counter() - start) / iters
        del model, opt
    return out


def agreement(models: dict[str, torch.nn.Module], x: torch.Tensor, precision: str) -> dict[str, float]:
    """Relative difference of each transformers block's output from ours on the same tokens."""
    with torch.no_grad(), autocast(precision, x.device):
        ref = forward("ours", models["ours"], x).float()
        return {k: ((forward(k, m, x).float() - ref).norm() / ref.norm()).item()
                for k, m in models.items() if k.startswith("transformers")}


def run(args: argparse.Namespace) -> tuple[str, dict[str, float]]:
    """Time every contender; returns the markdown report and tokens/s per contender."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    precision = args.precision or ("bf16" if device == "cuda" else "fp32")  # train.precision=auto's choice
    h, f, n, t, tokens = SIZES["toy" if args.toy else device]
    tokens = args.tokens or tokens
    torch.manual_seed(0)
    models = build(h, f, n, t, device)
    x = torch.randn(tokens, h, device=device, requires_grad=True)  # the fp32 residual stream
    gy = torch.randn(tokens, h, device=device)
    diffs = agreement(models, x, precision)
    limit = 1e-4 if precision == "fp32" else 5e-2
    if any(d > limit for d in diffs.values()):
        raise RuntimeError(f"the transformers block disagrees with ours on the same weights: {diffs}")
    seconds = {k: time_fwd_bwd(k, m, x, gy, args.iters, args.warmup, precision) for k, m in models.items()}
    tps = {k: tokens / s for k, s in seconds.items()}
    step = time_train_step(STEP_SIZES["toy" if args.toy else device], device, precision, args.iters,
                           args.warmup) if args.step else {}
    import transformers

    env = describe(device)
    env["git"] = git_hash(HERE.parent)  # "+dirty" when this subproject's tracked files differ from HEAD
    lines = [f"## {env['date']} · {env['git']} · {device}: {env['device']}, load {env['load']}",
             f"torch {env['torch']}, transformers {transformers.__version__}, Python {env['python']}; "
             f"hidden {h}, expert ffn {f}, "
             f"{n} experts top-{t}, {tokens} tokens, fp32 parameters, precision {precision} (the Trainer's "
             f"autocast), {args.iters} timed "
             f"iterations after {args.warmup} warm-up; max relative output difference vs ours: "
             + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()), "",
             "| contender | fwd+bwd ms | tokens/s |", "|---|---:|---:|"]
    labels = {"ours": "ours (MoELayer)", "transformers-eager": "transformers Mixtral block, eager",
              "transformers-grouped_mm": "transformers Mixtral block, grouped_mm",
              "transformers-batched_mm": "transformers Mixtral block, batched_mm",
              "dense": f"dense SwiGLU MLP, ffn {t * f} (equal active FLOPs)"}
    lines += [f"| {labels[k]} | {seconds[k] * 1e3:.1f} | {tps[k]:,.0f} |" for k in models]
    lines += ["", "ratios (time of the other / time of ours; > 1 means ours is faster): "
              + ", ".join(f"vs {k} {seconds[k] / seconds['ours']:.2f}×" for k in models if k.startswith("transformers"))
              + f"; ours costs {seconds['ours'] / seconds['dense']:.2f}× the equal-FLOP dense MLP", ""]
    if step:
        sh = STEP_SIZES["toy" if args.toy else device]
        lines += [f"training step (AdamW, as train.py: fp32 parameters, precision {precision}), our GPT h{sh[0]} "
                  f"L{sh[1]}, dense ffn {sh[3]}, {sh[4] * sh[5]} tokens: dense {step['dense'] * 1e3:.1f} ms, "
                  f"E8G1T2 {step['E8G1T2'] * 1e3:.1f} ms, MoE/dense {step['E8G1T2'] / step['dense']:.2f}×", ""]
        tps.update({f"step-{k}": sh[4] * sh[5] / v for k, v in step.items()})
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
                         settings={"toy": args.toy, "precision": args.precision, "tokens": args.tokens,
                                   "iters": args.iters, "step": args.step})
    for name, speed in tps.items():
        if name.startswith("transformers"):
            impl = name.removeprefix("transformers-")
            report.add(BenchFigure(f"MoE layer fwd+bwd vs Mixtral block ({impl})", "tokens/s", tps["ours"], speed,
                                   target=1.5 if impl == "grouped_mm" else None,
                                   baseline=f"transformers Mixtral block, {impl}"))
    report.add(BenchFigure("MoE layer fwd+bwd vs dense MLP of equal active FLOPs", "tokens/s", tps["ours"],
                           tps["dense"], target=1 / 1.3, baseline="dense SwiGLU MLP (target: ours ≤ 1.3× its time)"))
    if "step-dense" in tps:
        report.add(BenchFigure("causal-LM training step, E8G1T2 vs its dense parent", "tokens/s", tps["step-E8G1T2"],
                               tps["step-dense"], target=1 / 1.8,
                               baseline="our dense GPT (target: MoE step ≤ 1.8× the dense step)"))
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    p.add_argument("--precision", choices=["fp32", "bf16"],
                   help="the Trainer's precision (parameters stay fp32): default bf16 on cuda, fp32 on cpu")
    p.add_argument("--step", action="store_true", help="also time a whole training step, E8G1T2 vs dense")
    p.add_argument("--tokens", type=int, default=0, help="override the token count")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--toy", action="store_true", help="tiny sizes (tests)")
    p.add_argument("--results", default=str(HERE / "RESULTS.md"))
    p.add_argument("--no-append", action="store_true", help="print only")
    p.add_argument("--json", help="also write the figures as a ninerepro.bench_report JSON file")
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
