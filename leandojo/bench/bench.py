"""ReProver throughput: premise retrieval, proof search, tactic generation. Appends to bench/RESULTS.md.

1. Retrieval queries/s over a synthetic index of ``--premises`` unit vectors (ByT5-small width 1472), FAISS
   exact inner product vs a brute-force torch matmul, both with per-query accessibility masks (half of
   the corpus accessible, as a theorem deep in mathlib sees), checked to return the same premises.
2. Best-first search expansions/s on the replay environment with the oracle generator over the fixture
   benchmark (environment + search bookkeeping cost, no model).
3. Generator tokens/s: beam search (``--beams``, 64 tokens forced) of a randomly initialised model,
   ByT5-small shape on CUDA, the tiny demo shape on CPU.
4. Expansions/s, ours vs ReProver's call on the same weights (issue #19 item 5): one expansion = one
   ``generate`` of ``--expansion-beams`` tactics (64, as RP) for a ``--input-bytes`` input (2300) with at most
   ``--output-tokens`` (128) each. Ours: :class:`reprover.generation.generator.ReProverGenerator` at its proof-time
   dtype (bf16 on CUDA). Reference: RP ``HuggingFaceGenerator.generate``'s exact ``model.generate(...)`` call
   (fp32, as RP loads it), written out here: RP's module imports lean_dojo, Ray, openai and DeepSpeed, which a
   bench machine lacks. Also premise embedding premises/s, ours (bf16 on CUDA) vs RP's fp32 mean-pooled
   encoder. The issue's H200 reference: 1.12 s per expansion, 315 premises/s; target >= 2x expansions/s.

There is no official search to run side by side here (RP needs Lean and its traced repos for search,
and its retriever is the same FAISS-free matmul as our torch path).

    python bench/bench.py [--premises 100000] [--queries 256] [--no-append]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "fixtures" / "leandojo_benchmark_4"


def bench_retrieval(n: int, dim: int, n_queries: int, k: int, seed: int = 0) -> dict[str, float]:
    from reprover.retrieval.index import PremiseIndex, search_torch

    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim), dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    queries = emb[rng.integers(0, n, n_queries)] + 0.5 * rng.standard_normal((n_queries, dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    # contiguous accessible prefix per query, as corpus order puts imported files first
    cut = rng.integers(n // 4, 3 * n // 4, n_queries)
    masks = [np.arange(n) < c for c in cut]
    index = PremiseIndex(emb, use_gpu=None)
    t = time.perf_counter()
    hits_faiss = index.search(queries, k, masks)
    t_faiss = time.perf_counter() - t
    emb_t, q_t = torch.from_numpy(emb), torch.from_numpy(queries)
    t = time.perf_counter()
    hits_torch = []
    for lo in range(0, n_queries, 64):  # batches of 64, as an evaluation loop would send them
        hits_torch += search_torch(emb_t, q_t[lo:lo + 64], k, masks[lo:lo + 64])
    t_torch = time.perf_counter() - t
    same = np.mean([[i for i, _ in a] == [i for i, _ in b] for a, b in zip(hits_faiss, hits_torch, strict=True)])
    return {"faiss_qps": n_queries / t_faiss, "torch_qps": n_queries / t_torch, "same_top_k": float(same)}


def bench_search(data: Path, repeats: int) -> dict[str, float]:
    from reprover.data.benchmark import Benchmark
    from reprover.env import make_environment
    from reprover.search.best_first import SearchConfig, prove_theorem
    from reprover.search.oracle import OracleGenerator

    bench = Benchmark(data)
    theorems = [t for s in ("train", "val", "test") for t in bench.split("random", s)]
    gen, env, cfg = OracleGenerator(theorems), make_environment("replay"), SearchConfig(timeout=60.0)
    expansions, start = 0, time.perf_counter()
    for _ in range(repeats):
        for thm in theorems:
            expansions += prove_theorem(thm, env, gen, cfg).num_expansions
    elapsed = time.perf_counter() - start
    return {"expansions_per_s": expansions / elapsed, "expansions": expansions}


def bench_generator(data: Path, beams: int, device: torch.device, n_states: int) -> dict[str, float]:
    from transformers import ByT5Tokenizer

    from reprover.data.benchmark import Benchmark
    from reprover.generation.model import build_seq2seq
    from reprover.retrieval.arch import ArchConfig

    arch = ArchConfig() if device.type == "cuda" else ArchConfig(d_model=64, d_ff=128, d_kv=16, num_heads=4,
                                                                  num_layers=2, num_decoder_layers=2)
    torch.manual_seed(0)
    model = build_seq2seq(arch).to(device).eval()
    tok = ByT5Tokenizer()
    states = [s.state_before for t in Benchmark(data).split("random", "train") for s in t.traced_tactics][:n_states]
    tokens, start = 0, time.perf_counter()
    with torch.no_grad():
        for state in states:
            enc = tok(state, return_tensors="pt").to(device)
            out = model.generate(**enc, max_length=64, min_length=64, num_beams=beams, num_return_sequences=beams,
                                 do_sample=False, early_stopping=False)
            tokens += int((out[:, 1:] != tok.pad_token_id).sum())  # generated tokens of every returned beam
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    shape = "byt5-small" if device.type == "cuda" else "tiny (demo)"
    return {"tokens_per_s": tokens / elapsed, "states_per_s": len(states) / elapsed, "model": shape}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_expansion(device: torch.device, beams: int, input_bytes: int, output_tokens: int,
                    repeats: int, premises: int) -> dict[str, float]:
    """Seconds per expansion and premises/s, ours vs RP's call, on one set of random ByT5 weights."""
    import copy

    from transformers import ByT5Tokenizer

    from reprover.generation.generator import ReProverGenerator
    from reprover.generation.model import build_seq2seq
    from reprover.retrieval.arch import ArchConfig

    arch = ArchConfig() if device.type == "cuda" else ArchConfig(d_model=64, d_ff=128, d_kv=16, num_heads=4,
                                                                  num_layers=2, num_decoder_layers=2)
    torch.manual_seed(0)
    ref_model = build_seq2seq(arch).to(device).eval()  # fp32, as RP's from_pretrained loads it
    ours_model = copy.deepcopy(ref_model).to(torch.bfloat16 if device.type == "cuda" else torch.float32)
    tok = ByT5Tokenizer()
    base = "x y : ℕ\nh : x ≤ y\n⊢ x + 0 ≤ y * 1\n\n"
    text = (base * (input_bytes // len(base.encode()) + 1)).encode()[:input_bytes].decode(errors="ignore")
    ours = ReProverGenerator(ours_model, tok, None, max_inp_seq_len=input_bytes, max_oup_seq_len=output_tokens,
                             device=device)

    def reference() -> None:  # RP prover/tactic_generator.py HuggingFaceGenerator.generate
        enc = tok(text, max_length=input_bytes, truncation=True, return_tensors="pt")
        out = ref_model.generate(input_ids=enc.input_ids.to(device), attention_mask=enc.attention_mask.to(device),
                                 max_length=output_tokens, num_beams=beams, length_penalty=0.0, do_sample=False,
                                 num_return_sequences=beams, early_stopping=False, output_scores=True,
                                 return_dict_in_generate=True)
        out.sequences_scores.tolist()

    def timed(fn) -> float:
        with torch.no_grad():
            fn()  # warm-up (CUDA kernels, allocator)
            _sync(device)
            t = time.perf_counter()
            for _ in range(repeats):
                fn()
            _sync(device)
        return (time.perf_counter() - t) / repeats

    from reprover.data.positions import Pos

    s_ours = timed(lambda: ours.generate(text, "A.lean", "A.t", Pos(1, 1), beams))
    s_ref = timed(reference)
    # premise embedding: ours (reprover.retrieval.encode at the proof-time dtype) vs RP's fp32 mean pooling
    from reprover.retrieval.encode import embed_texts
    from reprover.retrieval.model import PremiseRetriever

    torch.manual_seed(0)
    enc_ref = ref_model.get_encoder()
    texts = [f"theorem p{i} (a b : ℕ) (h : a ≤ b) : a + {i} ≤ b + {i} := by omega" * 4 for i in range(premises)]
    ret_ours = PremiseRetriever(copy.deepcopy(enc_ref).to(ours_model.dtype)).to(device)

    def rp_embed() -> None:  # RP retrieval/model.py _encode: mean of the last hidden states over the mask
        for lo in range(0, premises, 32):
            e = tok(texts[lo:lo + 32], padding="longest", max_length=1024, truncation=True, return_tensors="pt")
            mask = e.attention_mask.to(device)
            h = enc_ref(input_ids=e.input_ids.to(device), attention_mask=mask).last_hidden_state
            emb = (h * mask.unsqueeze(2)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
            torch.nn.functional.normalize(emb, dim=1).cpu()

    e_ours = timed(lambda: embed_texts(ret_ours, tok, texts, 1024, batch_size=32, device=device))
    e_ref = timed(rp_embed)
    shape = "byt5-small" if device.type == "cuda" else "tiny (demo)"
    return {"ours_s": s_ours, "ref_s": s_ref, "ours_pps": premises / e_ours, "ref_pps": premises / e_ref,
            "model": shape, "dtype": str(ours_model.dtype).replace("torch.", "")}


def environment(device: torch.device) -> str:
    """Where the numbers were measured (``ninerepro.envinfo``), plus the library versions that set them."""
    import faiss
    import transformers

    from ninerepro.envinfo import describe, device_name

    env = describe("cpu")  # retrieval and search run on the CPU; the generator on ``device``
    gpu = device_name(str(device)) if device.type == "cuda" else "no GPU"
    return (f"{env['date']}, git {env['git']}, {env['device']}, load {env['load']}, {gpu}, "
            f"python {env['python']}, torch {env['torch']}, faiss {faiss.__version__}"
            f", transformers {transformers.__version__}")


def json_report(args: argparse.Namespace, device: torch.device, retrieval: dict, search: dict,
                generator: dict, expansion: dict):
    """The three measurements as figures for ``make gpu-check``. Only retrieval has a baseline here (torch
    matmul); search and generation are ours alone until the official ReProver runs beside them with Lean."""
    from ninerepro.bench_report import BenchFigure, BenchReport

    report = BenchReport("leandojo", str(device), settings={"premises": args.premises, "dim": args.dim,
                                                             "queries": args.queries, "k": args.k,
                                                             "beams": args.beams, "threads": args.threads})
    report.add(BenchFigure(f"retrieval top-{args.k} of {args.premises:,} premises (FAISS vs torch matmul)",
                           "queries/s", retrieval["faiss_qps"], retrieval["torch_qps"], baseline="torch matmul",
                           notes=f"same top-k on {100 * retrieval['same_top_k']:.0f} % of queries"))
    report.add(BenchFigure("best-first search, replay env + oracle generator", "expansions/s",
                           search["expansions_per_s"], notes="official ReProver needs Lean: not run beside it"))
    report.add(BenchFigure(f"generator beam search ({args.beams} beams), {generator['model']}", "tokens/s",
                           generator["tokens_per_s"], notes="random init; ours alone"))
    report.add(BenchFigure(f"expansion: {args.expansion_beams}-beam generate, {args.input_bytes}-byte input, "
                           f"<= {args.output_tokens} tokens, {expansion['model']}", "expansions/s",
                           1 / expansion["ours_s"], 1 / expansion["ref_s"], baseline="RP generate call (fp32)",
                           target=2.0 if device.type == "cuda" else None,
                           notes=f"ours {expansion['dtype']}; issue's H200 reference 1.12 s/expansion"))
    report.add(BenchFigure(f"premise embedding, {expansion['model']}", "premises/s", expansion["ours_pps"],
                           expansion["ref_pps"], baseline="RP mean-pooled encoder (fp32)",
                           notes="issue's H200 reference 315 premises/s"))
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ReProver throughput benchmark")
    p.add_argument("--premises", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=1472, help="embedding size (ByT5-small: 1472)")
    p.add_argument("--queries", type=int, default=256)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--search-repeats", type=int, default=20)
    p.add_argument("--beams", type=int, default=8)
    p.add_argument("--states", type=int, default=16)
    p.add_argument("--expansion-beams", type=int, default=64, help="tactics per expansion (RP: 64)")
    p.add_argument("--input-bytes", type=int, default=2300, help="generator input per expansion")
    p.add_argument("--output-tokens", type=int, default=128, help="generator output cap per tactic")
    p.add_argument("--expansion-repeats", type=int, default=3)
    p.add_argument("--embed-premises", type=int, default=256, help="premises embedded for premises/s")
    p.add_argument("--data", type=Path, default=FIXTURE)
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch and faiss (1 is steadiest on a shared machine)")
    p.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--no-append", action="store_true", help="print only; do not append to RESULTS.md")
    p.add_argument("--json", type=Path, help="also write the figures as a ninerepro.bench_report JSON file")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where the generator runs")
    args = p.parse_args(argv)
    want_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if want_cuda else "cpu")
    torch.set_num_threads(args.threads)
    import faiss

    faiss.omp_set_num_threads(args.threads)
    r = bench_retrieval(args.premises, args.dim, args.queries, args.k)
    s = bench_search(args.data, args.search_repeats)
    g = bench_generator(args.data, args.beams, device, args.states)
    e = bench_expansion(device, args.expansion_beams, args.input_bytes, args.output_tokens, args.expansion_repeats,
                        args.embed_premises)
    rows = [
        f"| retrieval, {args.premises:,} premises x {args.dim}, top-{args.k}, accessibility-masked | FAISS "
        f"IndexFlatIP: {r['faiss_qps']:.1f} queries/s | torch matmul: {r['torch_qps']:.1f} queries/s | "
        f"same top-{args.k}: {100 * r['same_top_k']:.0f} % |",
        f"| best-first search, replay env + oracle, fixture x {args.search_repeats} | {s['expansions_per_s']:.0f} "
        f"expansions/s | | {s['expansions']} expansions |",
        f"| generator beam search ({args.beams} beams), {g['model']} on {device.type} | {g['tokens_per_s']:.0f} "
        f"tokens/s | {g['states_per_s']:.2f} states/s | random init |",
        f"| expansion ({args.expansion_beams} beams, {args.input_bytes} B in, <= {args.output_tokens} tokens), "
        f"{e['model']} on {device.type} | {1 / e['ours_s']:.3f} expansions/s ({e['dtype']}) | RP call (fp32): "
        f"{1 / e['ref_s']:.3f} expansions/s | {e['ref_s'] / e['ours_s']:.2f}x |",
        f"| premise embedding, {e['model']} on {device.type} | {e['ours_pps']:.0f} premises/s | RP fp32: "
        f"{e['ref_pps']:.0f} premises/s | {e['ref_pps'] and e['ours_pps'] / e['ref_pps']:.2f}x |",
    ]
    block = "\n".join([f"### {environment(device)}", "", "| what | ours | reference | note |", "|---|---|---|---|",
                       *rows, ""])
    print(block)
    if args.json:
        json_report(args, device, r, s, g, e).write(args.json)
        print(f"figures written to {args.json}")
    if not args.no_append:
        from ninerepro.atomic import atomic_write_text

        old = args.results.read_text(encoding="utf-8") if args.results.exists() else (
            "# ReProver benchmark results\n\nAppended by `make bench-leandojo` (bench/bench.py); newest last.\n\n")
        atomic_write_text(args.results, old + block + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
