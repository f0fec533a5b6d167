"""CGAP stage-1 throughput: naive per-question HF ``generate`` vs our batched HF backend (vs vLLM when importable).

The workload is stage 1 as CGAP runs it: each question's prompt (its retrieved demonstrations, BM25 here so no
encoder is loaded) sampled k times with top-p 0.9, top-k 0, temperature 1, ``--new-tokens`` tokens forced
(end-of-sequence ignored, so every implementation generates the same number of tokens). Implementations:

1. ``HF generate, batch 1``: ``model.generate`` on one prompt at a time, k calls per question (the naive loop).
2. ours: :class:`ninerepro.lm.hf.HFBackend`, ``--batch`` prompts per forward, the k copies prefilled once.
3. vLLM in-process (``ninerepro.lm.vllm_backend``) when ``import vllm`` works (CUDA machines), same prompts and seeds.

Timings alternate between implementations (``ninerepro.timing``), questions/s and generated tokens/s are printed
side by side with ratios; ``--results`` appends the markdown table, ``--json`` writes a
``ninerepro.bench_report.BenchReport``. Issue target on CUDA: vLLM >= 5x HF batch 64 (reference H200, 1.1B
Llama-like, prompt 1024, 100 sampled tokens, bf16: 55 tok/s at batch 1, 2197 tok/s at batch 64).

    python bench/bench.py --tiny                        # seconds: random 2-layer model, CPU
    python bench/bench.py --device cuda --model PATH --questions 16 --k 8 --batch 64 --new-tokens 100
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GK = HERE.parent / "data" / "gk"


def stage1_prompts(n_questions: int, k: int) -> tuple[list[str], list[int]]:
    """k copies of each of the first ``n_questions`` gk stage-1 prompts, with CGAP's seeds (1234 + 10 i)."""
    from closedbook_qa.config import DemoConfig
    from closedbook_qa.data import read_questions
    from closedbook_qa.demos import select_demos
    from closedbook_qa.prompts import stage1_prompt

    tests = read_questions(GK / "test.qa.csv")[:n_questions]
    demos = select_demos(tests, read_questions(GK / "train.json"), DemoConfig(retriever="bm25"))
    prompts, seeds = [], []
    for t in tests:
        prompts += [stage1_prompt(t.question, demos[t.id])] * k
        seeds += [1234 + 10 * i for i in range(k)]
    return prompts, seeds


def measure(args: argparse.Namespace) -> dict:
    from ninerepro.lm import Sampling
    from ninerepro.lm.bench_tools import bench_backend, naive_generate
    from ninerepro.timing import median_seconds

    backend, device = bench_backend(args.device, args.tiny, args.model, args.batch)
    prompts, seeds = stage1_prompts(args.questions, args.k)
    sampling = Sampling(max_new_tokens=args.new_tokens, top_p=0.9, top_k=0, temperature=1.0)
    counts: dict[str, int] = {}

    def ours():
        counts["ours"] = sum(len(g.logprobs) for g in backend.generate(prompts, sampling, seeds))

    def naive():
        counts["naive"] = naive_generate(backend, prompts, args.new_tokens, seeds, do_sample=True, top_p=0.9,
                                         top_k=0, temperature=1.0)

    fns = {"naive": naive, "ours": ours}
    # vLLM needs a model path it can open (a transformers folder); the embedded GGUF default is HF-only here
    vllm_ok = (importlib.util.find_spec("vllm") is not None and device.startswith("cuda") and not args.tiny
               and args.model is not None)
    if vllm_ok:
        from ninerepro.lm.vllm_backend import VLLMBackend

        vbackend = VLLMBackend(args.model)

        def vllm():
            counts["vllm"] = sum(len(g.logprobs) for g in vbackend.generate(prompts, sampling, seeds))

        fns["vllm"] = vllm
    secs = median_seconds(fns, device, repeats=args.repeats, warmup=1)
    return {"seconds": secs, "tokens": counts, "device": device, "questions": args.questions,
            "prompt_tokens": len(backend.encode(prompts[:1])[0])}


def report(args: argparse.Namespace, m: dict):
    from ninerepro.bench_report import BenchFigure, BenchReport
    from ninerepro.envinfo import describe

    q, s, tok = m["questions"], m["seconds"], m["tokens"]
    rows = [{"implementation": {"naive": "HF generate, batch 1", "ours": f"ours, HF batched (batch {args.batch})",
                                "vllm": "vLLM"}[name], "questions/s": q / s[name], "tokens/s": tok[name] / s[name],
             "x vs batch 1": s["naive"] / s[name]} for name in s]
    rep = BenchReport("closedbook-qa", describe(m["device"])["device"],
                      settings={k: getattr(args, k) for k in ("questions", "k", "batch", "new_tokens", "tiny")}
                      | {"prompt_tokens": m["prompt_tokens"], "model": "tiny random Llama" if args.tiny
                         else str(args.model or "embedded SmolLM2-135M")})
    rep.add(BenchFigure("CGAP stage 1, batched HF vs per-question generate", "questions/s", q / s["ours"],
                        q / s["naive"], baseline="HF generate, batch 1"))
    if "vllm" in s:
        rep.add(BenchFigure("CGAP stage 1, vLLM vs batched HF", "questions/s", q / s["vllm"], q / s["ours"],
                            target=5.0, baseline=f"HF batched, batch {args.batch}"))
    return rows, rep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--tiny", action="store_true", help="random 2-layer model, 2 questions, 8 tokens (seconds)")
    p.add_argument("--model", default=None, help="model folder or .gguf (default: the embedded SmolLM2-135M)")
    p.add_argument("--questions", type=int, default=4)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=100)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--results", default=None, help="append the markdown table to this file")
    p.add_argument("--json", default=None, help="write a ninerepro.bench_report JSON here")
    args = p.parse_args(argv)
    if args.tiny:
        args.questions, args.k, args.new_tokens, args.repeats = 2, 4, 8, 1
    from ninerepro.lm.bench_tools import emit

    m = measure(args)
    rows, rep = report(args, m)
    emit(rows, rep, m["device"], args.results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
