"""Per-GPU memory of a run before it starts (``train.py --dry-run --gpus N``): an estimate, not a measurement.

The model is built on the meta device (no storage), so the parameter counts are exact for any size; the
bytes follow from how the run trains (FSDP2 full sharding with a bf16 MixedPrecisionPolicy, AdamW):

- sharded state, divided over the N GPUs: fp32 master weights (4 B/param), fp32 gradients (4), AdamW's two
  fp32 moments (8) — 16 bytes per parameter;
- gathered for compute: the bf16 parameters of the largest decoder block, twice (FSDP2 prefetches the next
  block while one runs), the root's embedding and head, and one fp32 reduce-scatter buffer of a block;
- activations of one micro-batch of b × s tokens: with activation checkpointing, each block's fp32 input plus
  one block's internals during its recompute; without, every block's internals. A block's internals counted:
  q, k, v, attention output and o (bf16), for the MLP the fc1 output and activation per token and routed
  copy (T copies for an MoE, plus the permuted inputs and the [S, N] fp32 router logits and probabilities);
  attention scores are not stored (SDPA's fused kernels); the logits in bf16 plus their fp32 log-softmax and
  gradient.

Not counted: the CUDA context and allocator fragmentation (~1-3 GB), communication buffers beyond one block,
expert or tensor parallelism (this code has neither: every rank runs every expert of its tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

from upcycling.activations import fc1_rows
from upcycling.config import RunConfig
from upcycling.sharded import build_on_meta

GB = 1e9


@dataclass
class MemoryEstimate:
    gpus: int
    params: int
    block_params: int
    root_params: int
    sharded_state_gb: float
    gathered_gb: float
    activations_gb: float

    @property
    def total_gb(self) -> float:
        return self.sharded_state_gb + self.gathered_gb + self.activations_gb


def count_params(cfg: RunConfig) -> tuple[int, int, int]:
    """(all parameters, largest decoder block, embedding + head + final norm) from a meta-device build."""
    model = build_on_meta(cfg.model, cfg.moe)
    total = sum(p.numel() for p in model.parameters())
    block = max(sum(p.numel() for p in b.parameters()) for b in model.layers)
    return total, block, total - sum(sum(p.numel() for p in b.parameters()) for b in model.layers)


def activation_bytes(cfg: RunConfig, tokens: int) -> float:
    """Bytes of one micro-batch's activations (see the module docstring for what is counted)."""
    m, moe = cfg.model, cfg.moe
    kv = m.n_kv_heads * m.head_dim
    attn = tokens * (2 * m.hidden + 2 * kv + m.hidden + m.hidden) * 2  # q, k, v, attention out, o (bf16)
    norms = 2 * tokens * m.hidden * 4  # the two pre-norm outputs (fp32 residual stream)
    if moe is None:
        f = m.ffn_hidden
        mlp = tokens * (fc1_rows(m.activation, f) + f) * 2
    else:
        f = moe.expert_ffn_hidden(m.ffn_hidden)
        routed = tokens * moe.topk
        mlp = routed * (m.hidden + fc1_rows(m.activation, f) + f + m.hidden) * 2 + tokens * moe.num_experts * 4 * 2
        fs = moe.shared_ffn_hidden(m.ffn_hidden)  # shared experts: a dense MLP of width S·F/G on every token
        mlp += tokens * (fc1_rows(m.activation, fs) + fs) * 2 if fs else 0
        # moe.moe_every > 1: every block is still counted as an MoE block, an upper bound for the dense ones
    per_block = attn + norms + mlp
    logits = tokens * m.vocab_size * (2 + 4 + 4)
    if cfg.scale.activation_checkpointing:
        return m.n_layers * tokens * m.hidden * 4 + per_block + logits
    return m.n_layers * per_block + logits


def estimate(cfg: RunConfig, gpus: int) -> MemoryEstimate:
    total, block, root = count_params(cfg)
    sharded = 16 * total / gpus
    gathered = 2 * block * 2 + root * 2 + block * 4
    acts = activation_bytes(cfg, cfg.data.batch_size * cfg.data.seq_len)
    return MemoryEstimate(gpus, total, block, root, sharded / GB, gathered / GB, acts / GB)


def dry_run_report(cfg: RunConfig, gpu_counts: list[int], gpu_memory_gb: float = 80.0) -> str:
    """The table ``train.py --dry-run`` prints: per-GPU GB for each GPU count, and whether it fits."""
    name = cfg.moe.name() if cfg.moe is not None else "dense"
    first = estimate(cfg, gpu_counts[0])
    lines = [f"{name}: {first.params / 1e9:.2f} B parameters (largest block {first.block_params / 1e9:.3f} B, "
             f"embedding+head {first.root_params / 1e9:.3f} B); micro-batch {cfg.data.batch_size} x "
             f"{cfg.data.seq_len} tokens per GPU, activation checkpointing "
             f"{'on' if cfg.scale.activation_checkpointing else 'off'}; FSDP2 full sharding, bf16 compute, AdamW",
             "estimate, not a measurement (upcycling/memory.py says what is counted)", "",
             "| GPUs | sharded state GB | gathered params GB | activations GB | total GB per GPU | "
             f"fits {gpu_memory_gb:.0f} GB? |", "|---:|---:|---:|---:|---:|---|"]
    for n in gpu_counts:
        e = estimate(cfg, n)
        lines.append(f"| {n} | {e.sharded_state_gb:.1f} | {e.gathered_gb:.1f} | {e.activations_gb:.1f} | "
                     f"{e.total_gb:.1f} | {'yes' if e.total_gb < gpu_memory_gb else 'no'} |")
    return "\n".join(lines)
