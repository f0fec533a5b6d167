"""The converter streams: its peak host memory stays near one output shard, far below the model size."""

import json
import os
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig

HIDDEN, FFN, LAYERS, VOCAB = 384, 1536, 6, 1024
SHARD = 6_000_000  # bytes per input and per output shard

MEASURE = textwrap.dedent("""
    import json, sys
    from upcycling.hf.convert import convert_checkpoint

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    def convert(out):
        return convert_checkpoint(sys.argv[1], out, num_experts=4, topk=2, router_order="topk_softmax",
                                  max_shard_size=sys.argv[3])

    # a first conversion pays one-time costs that are not the converter's working set: modules imported
    # lazily and, in a fresh clone, compiling them to bytecode (seen adding 5-10 MB to the peak)
    convert(sys.argv[2] + "-warm-up")
    try:  # reset the peak-RSS counter (VmHWM) so imports and the warm-up do not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = status("VmRSS")
    report = convert(sys.argv[2])
    print(json.dumps({"base": base, "peak": status("VmHWM"), "written": report.total_bytes,
                      "shards": len(report.shards)}))
""")


def write_sharded_llama(folder, shard_bytes=SHARD):
    """A ~60 MB fp32 Llama checkpoint in ~6 MB shards, written tensor by tensor (no model in memory)."""
    folder.mkdir()
    LlamaConfig(hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS, num_attention_heads=6,
                vocab_size=VOCAB).to_json_file(folder / "config.json")
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,),
              "lm_head.weight": (VOCAB, HIDDEN)}
    for L in range(LAYERS):
        p = f"model.layers.{L}."
        shapes.update({p + f"self_attn.{n}_proj.weight": (HIDDEN, HIDDEN) for n in "qkvo"})
        shapes.update({p + "input_layernorm.weight": (HIDDEN,), p + "post_attention_layernorm.weight": (HIDDEN,),
                       p + "mlp.gate_proj.weight": (FFN, HIDDEN), p + "mlp.up_proj.weight": (FFN, HIDDEN),
                       p + "mlp.down_proj.weight": (HIDDEN, FFN)})
    shards, current, size = [], {}, 0
    for key, shape in shapes.items():
        t = torch.randn(shape) * 0.02
        if current and size + t.numel() * 4 > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[key] = t
        size += t.numel() * 4
    shards.append(current)
    weight_map, total = {}, 0
    for i, tensors in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(tensors, folder / name, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(tensors, name))
        total += sum(t.numel() * 4 for t in tensors.values())
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total},
                                                                     "weight_map": weight_map}))
    return total, len(shards)


def test_peak_memory_stays_near_one_output_shard_not_the_model(tmp_path):
    dense_bytes, n_in = write_sharded_llama(tmp_path / "dense")
    # a fixed mmap threshold makes glibc return freed tensors at once, so RSS shows live memory, not its cache
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**20)}
    run = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / "dense"), str(tmp_path / "moe"), str(SHARD)],
                         capture_output=True, text=True, timeout=120, check=True, env=env)
    m = json.loads(run.stdout.strip().splitlines()[-1])
    delta = m["peak"] - m["base"]
    print(f"dense {dense_bytes / 1e6:.0f} MB in {n_in} shards → MoE {m['written'] / 1e6:.0f} MB in {m['shards']} "
          f"shards of ≤ {SHARD / 1e6:.0f} MB; peak RSS above baseline {delta / 1e6:.1f} MB")
    assert n_in >= 8 and m["shards"] >= 25
    largest = FFN * HIDDEN * 4  # one dense MLP projection
    assert delta < 2 * SHARD + 4 * largest, delta  # input shard (memory-mapped) + output shard + a few tensors
    assert delta < dense_bytes / 3 and delta < m["written"] / 9, (delta, dense_bytes, m["written"])
