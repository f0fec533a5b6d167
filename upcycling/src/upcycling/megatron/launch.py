"""The paper-scale runs on Megatron-LM (``make reproduce-upcycling SCALE=paper``): Nemotron-4 15B upcycled to
E8G1T2 and E8G8T8 with Megatron-Core's own upcycling (``--moe-use-upcycling``), the paper's recipe as flags.

What is the paper's (He et al. 2024, §3-§4) and what is not given there:
- model: Nemotron-4 15B (32 layers, hidden 6144, 48 heads, 8 KV groups, FFN 24576, squared-ReLU,
  LayerNorm1P, 50 % partial RoPE, no biases, untied embeddings, seq 4096, 256K vocab); from
  ``configs/nemotron4_15b_e8g1t2.json`` so our GPT, its HF export and this launch agree;
- MoE: softmax-then-topK (``--moe-router-pre-softmax``), Switch aux loss α = 1e-2, no z-loss, dropless, router in
  fp32; E8G1T2 = 8 experts top-2; E8G8T8 = 64 experts of width F/8, top-8, ``--moe-upcycling-granularity 8``;
  Megatron scales the expert weights itself (upcycling_utils) as the paper does;
- LR: reset to the pretraining peak 3e-4, cosine decay to 1/100 of the pretraining min LR (4.5e-5 → 4.5e-7),
  warmup starting at the pretraining min LR; 1T tokens; ~4M-token batches (1024 × 4096);
- not given in the paper, placeholders marked in ``Recipe``: warmup length, the larger E8G8T8 batch (the paper
  says only "larger"), parallel layout (TP/EP/PP), and the data blend.

Megatron's upcycling loads the dense ``--load`` checkpoint, converts it and saves iteration 1 to ``--save``;
it refuses a ``--save`` that already holds a checkpoint, so the launch for a resumed run drops the flag.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from upcycling.config import GPTConfig, MoEConfig

NEMOTRON4_15B = GPTConfig(vocab_size=256000, n_layers=32, hidden=6144, n_heads=48, n_kv_heads=8, ffn_hidden=24576,
                          activation="squared_relu", norm="layernorm1p", bias=False, tied_embeddings=False,
                          rope_theta=10000.0, rotary_percent=0.5, max_seq_len=4096)
TOKENS = 1_000_000_000_000
SEQ = 4096


@dataclass(frozen=True)
class Recipe:
    moe: MoEConfig
    global_batch_size: int
    """sequences per step: 1024 × 4096 ≈ 4.2M tokens (paper §3 Fig. 7 picks ~4M); E8G8T8's "larger" batch
    is not given, 1024 is a placeholder"""
    peak_lr: float = 3e-4
    min_lr: float = 4.5e-7
    """1/100 of Nemotron-4 15B's pretraining min LR 4.5e-5"""
    warmup_init_lr: float = 4.5e-5
    warmup_samples: int = 122_070
    """not given in the paper: ~0.05 % of the run (0.5B tokens), a placeholder"""
    tensor_parallel: int = 4
    expert_parallel: int = 8
    """placeholders that fit 64 × 80 GB GPUs (TP 4 × DP 16 with EP 8 inside the DP group)"""


PAPER_RECIPES = {
    "E8G1T2": Recipe(MoEConfig.from_notation("E8G1T2"), global_batch_size=1024),
    "E8G8T8": Recipe(MoEConfig.from_notation("E8G8T8"), global_batch_size=1024),
}


def model_args(cfg: GPTConfig, moe: MoEConfig | None) -> list[str]:
    """Megatron-LM flags that build the Megatron twin of our ``cfg``/``moe`` (the layout module maps weights)."""
    if cfg.activation == "gelu":
        act: list[str] = []  # Megatron's default activation
    else:
        act = ["--swiglu"] if cfg.activation == "swiglu" else ["--squared-relu"]
    norm = ["--normalization", "RMSNorm"] if cfg.norm == "rmsnorm" else ["--normalization", "LayerNorm"]
    if cfg.norm == "layernorm1p":
        norm.append("--apply-layernorm-1p")
    out = [
        "--num-layers", str(cfg.n_layers), "--hidden-size", str(cfg.hidden),
        "--num-attention-heads", str(cfg.n_heads), "--ffn-hidden-size", str(cfg.ffn_hidden),
        "--kv-channels", str(cfg.head_dim), *act, *norm, "--norm-epsilon", str(cfg.norm_eps),
        "--position-embedding-type", "rope", "--rotary-percent", str(cfg.rotary_percent),
        "--rotary-base", str(int(cfg.rope_theta)), "--seq-length", str(cfg.max_seq_len),
        "--max-position-embeddings", str(cfg.max_seq_len), "--init-method-std", str(cfg.init_std),
        "--attention-dropout", str(cfg.dropout), "--hidden-dropout", str(cfg.dropout),
    ]
    if cfg.n_kv_heads != cfg.n_heads:
        out += ["--group-query-attention", "--num-query-groups", str(cfg.n_kv_heads)]
    if not cfg.bias:
        out.append("--disable-bias-linear")
    if not cfg.tied_embeddings:
        out.append("--untie-embeddings-and-output-weights")
    if moe is not None:
        out += [
            "--num-experts", str(moe.num_experts), "--moe-router-topk", str(moe.topk),
            "--moe-ffn-hidden-size", str(moe.expert_ffn_hidden(cfg.ffn_hidden)),
            "--moe-router-load-balancing-type", "aux_loss", "--moe-aux-loss-coeff", str(moe.aux_loss_coeff),
            "--moe-router-dtype", "fp32", "--moe-token-dispatcher-type", "alltoall", "--moe-grouped-gemm",
        ]
        if moe.router_order == "softmax_topk":
            out.append("--moe-router-pre-softmax")
        if moe.z_loss_coeff > 0:
            out += ["--moe-z-loss-coeff", str(moe.z_loss_coeff)]
        if moe.capacity_factor is not None:
            out += ["--moe-expert-capacity-factor", str(moe.capacity_factor), "--moe-token-drop-policy",
                    moe.drop_policy]
    return out


def megatron_args(recipe: str, *, load: str, save: str, data_path: list[str], tokenizer_model: str,
                  upcycle: bool = True, micro_batch_size: int = 1) -> list[str]:
    """Every ``pretrain_gpt.py`` flag of one paper recipe (``PAPER_RECIPES``)."""
    r = PAPER_RECIPES[recipe]
    samples = TOKENS // SEQ
    out = [
        *model_args(NEMOTRON4_15B, r.moe),
        "--tensor-model-parallel-size", str(r.tensor_parallel), "--sequence-parallel",
        "--expert-model-parallel-size", str(r.expert_parallel), "--use-distributed-optimizer", "--bf16",
        "--micro-batch-size", str(micro_batch_size), "--global-batch-size", str(r.global_batch_size),
        "--train-samples", str(samples), "--lr-decay-samples", str(samples), "--lr-decay-style", "cosine",
        "--lr", str(r.peak_lr), "--min-lr", str(r.min_lr), "--lr-warmup-init", str(r.warmup_init_lr),
        "--lr-warmup-samples", str(r.warmup_samples), "--weight-decay", "0.1", "--adam-beta1", "0.9",
        "--adam-beta2", "0.95", "--clip-grad", "1.0", "--recompute-activations",
        "--tokenizer-type", "SentencePieceTokenizer", "--tokenizer-model", tokenizer_model,
        "--data-path", *data_path, "--split", "99,1,0",
        "--load", load, "--save", save, "--ckpt-format", "torch_dist",
        "--log-interval", "10", "--save-interval", "1000", "--eval-interval", "1000", "--eval-iters", "32",
    ]
    if upcycle:
        out += ["--moe-use-upcycling", "--moe-upcycling-granularity", str(r.moe.granularity)]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m upcycling.megatron.launch", description=__doc__.split("\n")[0])
    p.add_argument("--recipe", choices=sorted(PAPER_RECIPES), required=True)
    p.add_argument("--megatron-lm", default=os.environ.get("MEGATRON_LM", ""),
                   help="Megatron-LM checkout holding pretrain_gpt.py (default $MEGATRON_LM)")
    p.add_argument("--load", required=True, help="dense Nemotron-4 15B Megatron checkpoint (--load of Megatron)")
    p.add_argument("--save", required=True, help="new folder for the MoE run")
    p.add_argument("--data-path", nargs="+", required=True, help="Megatron indexed-dataset prefixes (the blend)")
    p.add_argument("--tokenizer-model", required=True, help="the Nemotron SentencePiece model file")
    p.add_argument("--nproc-per-node", type=int, default=8)
    p.add_argument("--nnodes", type=int, default=8)
    p.add_argument("--dry-run", action="store_true", help="print the torchrun command and exit")
    a = p.parse_args(argv)
    script = Path(a.megatron_lm) / "pretrain_gpt.py"
    if not a.dry_run and not script.is_file():
        print(f"error: {script} not found; pass --megatron-lm PATH (a Megatron-LM checkout) or use --dry-run",
              file=sys.stderr)
        return 2
    upcycle = not (Path(a.save) / "latest_checkpointed_iteration.txt").exists()
    cmd = ["torchrun", f"--nproc-per-node={a.nproc_per_node}", f"--nnodes={a.nnodes}", str(script),
           *megatron_args(a.recipe, load=a.load if upcycle else a.save, save=a.save, data_path=a.data_path,
                          tokenizer_model=a.tokenizer_model, upcycle=upcycle)]
    print(shlex.join(cmd), flush=True)
    if a.dry_run:
        return 0
    os.execvp(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
