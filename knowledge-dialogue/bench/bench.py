"""MSDP response-stage throughput: naive per-dialogue HF ``generate`` vs our batched HF backend (vs vLLM).

The workload is stage 2 as MSDP runs it: the fixed demonstrations (the same for every dialogue, so a batch
shares a long prefix) plus each test dialogue's last turn and gold knowledge, greedy, ``--new-tokens`` forced
(end of sequence ignored, so every implementation generates the same number of tokens). Implementations:

1. ``HF generate, batch 1``: ``model.generate`` on one prompt at a time (the naive loop, as the official
   ``prompt.py`` sends one prompt per call).
2. ours: :class:`ninerepro.lm.hf.HFBackend`, ``--batch`` prompts per forward, the shared prefix prefilled once.
3. vLLM in-process (``ninerepro.lm.vllm_backend``) when ``import vllm`` works and ``--model`` is a folder.

Timings alternate between implementations (``ninerepro.timing``); dialogues/s and tokens/s are printed side by
side; ``--results`` appends the markdown table, ``--json`` writes a ``ninerepro.bench_report.BenchReport``.

    python bench/bench.py --tiny --device cpu --json out/bench.json   # seconds: random 2-layer model
    python bench/bench.py --device cuda --model PATH --dialogues 64 --batch 32
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = HERE.parent / "data" / "dialogues"


def stage2_prompts(n_dialogues: int, n_demos: int) -> list[str]:
    """Stage-2 prompts (gold knowledge) for the first ``n_dialogues`` test turns of the demo set, cycled."""
    from knowledge_dialogue.config import Stage2DemoConfig
    from knowledge_dialogue.data import read_samples
    from knowledge_dialogue.demos import select_stage2
    from knowledge_dialogue.prompts import stage2_prompt

    tests = read_samples(SETS / "test_seen.json") + read_samples(SETS / "test_unseen.json")
    demos = select_stage2(read_samples(SETS / "train.json"), Stage2DemoConfig(num_demos=n_demos))
    return [stage2_prompt(tests[i % len(tests)], tests[i % len(tests)].knowledge, demos) for i in range(n_dialogues)]


def measure(args: argparse.Namespace) -> dict:
    from ninerepro.lm import Sampling
    from ninerepro.lm.bench_tools import bench_backend, naive_generate
    from ninerepro.timing import median_seconds

    backend, device = bench_backend(args.device, args.tiny, args.model, args.batch)
    prompts = stage2_prompts(args.dialogues, args.demos)
    sampling = Sampling(max_new_tokens=args.new_tokens, greedy=True)
    counts: dict[str, int] = {}

    def ours():
        counts["ours"] = sum(len(g.logprobs) for g in backend.generate(prompts, sampling))

    def naive():
        counts["naive"] = naive_generate(backend, prompts, args.new_tokens, do_sample=False)

    fns = {"naive": naive, "ours": ours}
    if importlib.util.find_spec("vllm") is not None and device.startswith("cuda") and not args.tiny and args.model:
        from ninerepro.lm.vllm_backend import VLLMBackend

        vbackend = VLLMBackend(args.model)

        def vllm():
            counts["vllm"] = sum(len(g.logprobs) for g in vbackend.generate(prompts, sampling))

        fns["vllm"] = vllm
    secs = median_seconds(fns, device, repeats=args.repeats, warmup=1)
    return {"seconds": secs, "tokens": counts, "device": device, "dialogues": args.dialogues,
            "prompt_tokens": len(backend.encode(prompts[:1])[0])}


def report(args: argparse.Namespace, m: dict):
    from ninerepro.bench_report import BenchFigure, BenchReport
    from ninerepro.envinfo import describe

    n, s, tok = m["dialogues"], m["seconds"], m["tokens"]
    names = {"naive": "HF generate, batch 1", "ours": f"ours, HF batched (batch {args.batch})", "vllm": "vLLM"}
    rows = [{"implementation": names[k], "dialogues/s": n / s[k], "tokens/s": tok[k] / s[k],
             "x vs batch 1": s["naive"] / s[k]} for k in s]
    rep = BenchReport("knowledge-dialogue", describe(m["device"])["device"],
                      settings={k: getattr(args, k) for k in ("dialogues", "demos", "batch", "new_tokens", "tiny")}
                      | {"prompt_tokens": m["prompt_tokens"], "model": "tiny random Llama" if args.tiny
                         else str(args.model or "embedded SmolLM2-135M")})
    rep.add(BenchFigure("MSDP stage 2, batched HF vs per-dialogue generate", "dialogues/s", n / s["ours"],
                        n / s["naive"], baseline="HF generate, batch 1"))
    if "vllm" in s:
        rep.add(BenchFigure("MSDP stage 2, vLLM vs batched HF", "dialogues/s", n / s["vllm"], n / s["ours"],
                            baseline=f"HF batched, batch {args.batch}"))
    return rows, rep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--tiny", action="store_true", help="random 2-layer model, 4 dialogues, 2 demos, 8 tokens")
    p.add_argument("--model", default=None, help="model folder or .gguf (default: the embedded SmolLM2-135M)")
    p.add_argument("--dialogues", type=int, default=8)
    p.add_argument("--demos", type=int, default=20, help="stage-2 demonstrations (official 20)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--results", default=None, help="append the markdown table to this file")
    p.add_argument("--json", default=None, help="write a ninerepro.bench_report JSON here")
    args = p.parse_args(argv)
    if args.tiny:
        args.dialogues, args.demos, args.new_tokens, args.repeats = 4, 2, 8, 1
    from ninerepro.lm.bench_tools import emit

    m = measure(args)
    rows, rep = report(args, m)
    emit(rows, rep, m["device"], args.results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
