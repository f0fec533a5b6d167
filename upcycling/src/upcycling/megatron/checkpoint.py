"""Megatron-LM checkpoints of a GPT, read and written in both of Megatron's formats, for TP = PP = EP = 1 on write.

A Megatron-LM save folder holds ``latest_checkpointed_iteration.txt`` and ``iter_{N:07d}/``, in one of:
- ``legacy`` (``--ckpt-format torch``): ``iter_N/mp_rank_00/model_optim_rng.pt``, a ``torch.save`` of
  ``{"model": state dict, "checkpoint_version": 3.0, "iteration": N, "args": argparse.Namespace}`` with the
  per-layer keys of ``layout.to_megatron`` (one file per tensor-parallel rank: ``mp_rank_01``, ...);
- ``torch_dist`` (the default since Megatron-Core 0.8): a PyTorch distributed checkpoint (``.metadata`` +
  ``__*_*.distcp``) plus ``metadata.json`` (``{"sharded_backend": "torch_dist", ...}``) and ``common.pt``
  (everything that is not a tensor: args, iteration, checkpoint_version). Tensors are *global*: every layer's
  tensor is one slice of a tensor with a leading layer axis (``decoder.layers.self_attention.linear_qkv.weight``
  [L, ...]), experts add an expert axis (``decoder.layers.mlp.experts.experts.linear_fc1.weight`` [L, N, F1, h]),
  and norms carry the Transformer Engine names whatever spec wrote them (``..linear_qkv.layer_norm_weight``,
  ``..mlp.linear_fc1.layer_norm_weight``), so Megatron loads it at any TP/EP/PP. Key names and shapes follow
  what megatron-core 0.16's ``GPTModel.sharded_state_dict`` saves (tests/test_megatron.py compares against it).

The writer uses only ``torch.distributed.checkpoint`` (no Megatron import); Megatron's ``_extra_state`` objects
(Transformer Engine fp8 metadata; None without fp8) are written as ``[None]`` (Megatron's ShardedObject
value) so its loader finds every key its model asks for.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch

from upcycling.config import GPTConfig, MoEConfig
from upcycling.megatron.layout import from_megatron, to_megatron

TRACKER = "latest_checkpointed_iteration.txt"
BACKEND = {"sharded_backend": "torch_dist", "sharded_backend_version": 1, "common_backend": "torch",
           "common_backend_version": 1}
_DIST_NORM_NAMES = {"input_layernorm.": "self_attention.linear_qkv.layer_norm_",
                    "pre_mlp_layernorm.": "mlp.linear_fc1.layer_norm_"}
_EXTRA_STATE = ("self_attention.linear_qkv", "self_attention.linear_proj")
# Megatron's args are an argparse.Namespace; allow it in weights-only loads, as megatron.core does on import
# (a scoped safe_globals() context would, on exit, drop megatron-core's own registration of it)
torch.serialization.add_safe_globals([argparse.Namespace])


def megatron_namespace(cfg: GPTConfig, moe: MoEConfig | None, iteration: int) -> argparse.Namespace:
    """The model fields of Megatron-LM's ``args`` (its names), enough for ``--use-checkpoint-args`` and for
    ``read_config`` to rebuild our configs."""
    return argparse.Namespace(
        num_layers=cfg.n_layers, hidden_size=cfg.hidden, num_attention_heads=cfg.n_heads,
        group_query_attention=cfg.n_kv_heads != cfg.n_heads, num_query_groups=cfg.n_kv_heads,
        kv_channels=cfg.head_dim, ffn_hidden_size=cfg.ffn_hidden, padded_vocab_size=cfg.vocab_size,
        normalization="RMSNorm" if cfg.norm == "rmsnorm" else "LayerNorm", norm_epsilon=cfg.norm_eps,
        apply_layernorm_1p=cfg.norm == "layernorm1p", layernorm_zero_centered_gamma=cfg.norm == "layernorm1p",
        swiglu=cfg.activation == "swiglu", squared_relu=cfg.activation == "squared_relu",
        add_bias_linear=cfg.bias, add_qkv_bias=cfg.bias,
        untie_embeddings_and_output_weights=not cfg.tied_embeddings, position_embedding_type="rope",
        rotary_percent=cfg.rotary_percent, rotary_base=int(cfg.rope_theta), seq_length=cfg.max_seq_len,
        max_position_embeddings=cfg.max_seq_len, init_method_std=cfg.init_std, hidden_dropout=cfg.dropout,
        attention_dropout=cfg.dropout, tensor_model_parallel_size=1, pipeline_model_parallel_size=1,
        expert_model_parallel_size=1, iteration=iteration,
        num_experts=None if moe is None else moe.num_experts,
        moe_router_topk=2 if moe is None else moe.topk,
        moe_ffn_hidden_size=None if moe is None else moe.expert_ffn_hidden(cfg.ffn_hidden),
        moe_router_pre_softmax=moe is not None and moe.router_order == "softmax_topk",
        moe_aux_loss_coeff=0.0 if moe is None else moe.aux_loss_coeff,
        moe_z_loss_coeff=None if moe is None or not moe.z_loss_coeff else moe.z_loss_coeff,
        moe_upcycling_granularity=1 if moe is None else moe.granularity,
    )


def read_config(args: argparse.Namespace | dict) -> tuple[GPTConfig, MoEConfig | None]:
    """Our configs from a Megatron checkpoint's ``args`` (Megatron-LM's names; ours or Megatron's writer)."""
    a = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    one_p = bool(a.get("apply_layernorm_1p") or a.get("layernorm_zero_centered_gamma"))
    norm = "rmsnorm" if a.get("normalization") == "RMSNorm" else ("layernorm1p" if one_p else "layernorm")
    act = "swiglu" if a.get("swiglu") else ("squared_relu" if a.get("squared_relu") else "gelu")
    vocab = a.get("padded_vocab_size") or a.get("vocab_size")
    if not vocab:
        raise ValueError("the checkpoint's args have no padded_vocab_size; it was not written by Megatron-LM")
    heads = a["num_attention_heads"]
    cfg = GPTConfig(vocab_size=vocab, n_layers=a["num_layers"], hidden=a["hidden_size"], n_heads=heads,
                    n_kv_heads=a.get("num_query_groups") if a.get("group_query_attention") else heads,
                    ffn_hidden=a["ffn_hidden_size"], activation=act, norm=norm,
                    norm_eps=a.get("norm_epsilon", 1e-5), bias=bool(a.get("add_bias_linear", True)),
                    tied_embeddings=not a.get("untie_embeddings_and_output_weights", False),
                    rope_theta=float(a.get("rotary_base", 10000)), rotary_percent=a.get("rotary_percent", 1.0),
                    max_seq_len=a.get("max_position_embeddings") or a["seq_length"],
                    init_std=a.get("init_method_std", 0.02))
    if a.get("position_embedding_type", "rope") != "rope":
        raise ValueError(f"position_embedding_type={a['position_embedding_type']!r}: our GPT uses RoPE only")
    if not a.get("num_experts"):
        return cfg, None
    ffn_e = a.get("moe_ffn_hidden_size") or cfg.ffn_hidden
    coeff = a.get("moe_aux_loss_coeff", 0.0)
    moe = MoEConfig(num_experts=a["num_experts"], topk=a["moe_router_topk"], granularity=cfg.ffn_hidden // ffn_e,
                    router_order="softmax_topk" if a.get("moe_router_pre_softmax") else "topk_softmax",
                    aux_loss_coeff=float(coeff[0] if isinstance(coeff, list) else coeff),
                    z_loss_coeff=float(a.get("moe_z_loss_coeff") or 0.0))
    return cfg, moe


def _iter_dir(root: Path, iteration: int) -> Path:
    return root / f"iter_{iteration:07d}"


def save(state: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None, root: str | Path, *,
         iteration: int = 1, fmt: str = "torch_dist") -> Path:
    """Write our state dict as a Megatron-LM checkpoint folder ``root`` (``fmt`` torch_dist or legacy)."""
    root = Path(root)
    where = _iter_dir(root, iteration)
    if where.exists():
        raise FileExistsError(f"{where} exists; pick another --out or iteration")
    meg = to_megatron(state, cfg, moe, naming="local", experts="sequential")
    args = megatron_namespace(cfg, moe, iteration)
    tmp = where.with_name(where.name + ".partial")
    if fmt == "legacy":
        (tmp / "mp_rank_00").mkdir(parents=True)
        torch.save({"model": meg, "checkpoint_version": 3.0, "iteration": iteration, "args": args},
                   tmp / "mp_rank_00" / "model_optim_rng.pt")
    elif fmt == "torch_dist":
        import torch.distributed.checkpoint as dcp

        tmp.mkdir(parents=True)
        dcp.save(_to_global(meg, cfg, moe), storage_writer=dcp.FileSystemWriter(str(tmp)), no_dist=True)
        torch.save({"args": args, "checkpoint_version": 3.0, "iteration": iteration}, tmp / "common.pt")
        (tmp / "metadata.json").write_text(json.dumps(BACKEND))
    else:
        raise ValueError(f"unknown Megatron checkpoint format {fmt!r}; use torch_dist or legacy")
    tmp.rename(where)
    (root / TRACKER).write_text(str(iteration))
    return where


def load(path: str | Path) -> tuple[dict[str, torch.Tensor], GPTConfig, MoEConfig | None]:
    """Our state dict and configs from a Megatron-LM checkpoint: a save folder (its latest iteration), an
    ``iter_N`` folder of either format, or a legacy ``model_optim_rng.pt``."""
    p = Path(path)
    if (p / TRACKER).is_file():
        text = (p / TRACKER).read_text().strip()
        p = p / "release" if text == "release" else _iter_dir(p, int(text))
    if p.is_file():
        return _load_legacy_file(p)
    if (p / "metadata.json").is_file():
        return _load_dist(p)
    ranks = sorted(d.name for d in p.glob("mp_rank_*"))
    if ranks == ["mp_rank_00"]:
        return _load_legacy_file(p / "mp_rank_00" / "model_optim_rng.pt")
    if ranks:
        raise ValueError(f"{p} is a legacy checkpoint split over {len(ranks)} model-parallel ranks ({ranks[1]}, ...); "
                         "merge it first with Megatron-LM's tools/checkpoint/convert.py "
                         "--target-tensor-parallel-size 1 --target-pipeline-parallel-size 1, or save it with "
                         "--ckpt-format torch_dist, which any parallel layout reads")
    raise ValueError(f"{p} is not a Megatron-LM checkpoint (no {TRACKER}, metadata.json or mp_rank_00/)")


def _load_legacy_file(f: Path) -> tuple[dict[str, torch.Tensor], GPTConfig, MoEConfig | None]:
    blob = torch.load(f, map_location="cpu", weights_only=True)
    if "args" not in blob or "model" not in blob:
        raise ValueError(f"{f} has no 'args'/'model' entries; it is not a Megatron-LM model checkpoint")
    cfg, moe = read_config(blob["args"])
    model = blob["model"]
    if "language_model" in model:
        raise ValueError(f"{f} is a pre-Megatron-Core (legacy model) checkpoint; convert it with Megatron-LM's "
                         "tools/checkpoint/convert.py --saver core first")
    return from_megatron(model, cfg, moe), cfg, moe


def _load_dist(d: Path) -> tuple[dict[str, torch.Tensor], GPTConfig, MoEConfig | None]:
    import torch.distributed.checkpoint as dcp

    backend = json.loads((d / "metadata.json").read_text())
    if backend.get("sharded_backend") != "torch_dist":
        raise ValueError(f"{d}: sharded_backend {backend.get('sharded_backend')!r}; only torch_dist is read")
    common = torch.load(d / "common.pt", map_location="cpu", weights_only=True)
    if "args" not in common:
        raise ValueError(f"{d}/common.pt has no args; load it with Megatron-LM's own loader instead")
    cfg, moe = read_config(common["args"])
    reader = dcp.FileSystemReader(str(d))
    meta = reader.read_metadata().state_dict_metadata
    want = {k: torch.empty(m.size, dtype=m.properties.dtype) for k, m in meta.items()
            if hasattr(m, "size") and not k.startswith(("optimizer.", "rng_state"))}
    dcp.load(want, storage_reader=reader, no_dist=True)
    return from_megatron(_from_global(want, cfg, moe), cfg, moe), cfg, moe


def _dist_name(rest: str) -> str:
    """A per-layer key (after ``decoder.layers.{i}.``) → its torch_dist name (after ``decoder.layers.``)."""
    for local, te in _DIST_NORM_NAMES.items():
        if rest.startswith(local):
            return te + rest[len(local):]
    return rest


def _to_global(meg: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, object]:
    out: dict[str, object] = {k: v for k, v in meg.items() if not k.startswith("decoder.layers.")}
    per_layer: dict[str, list[torch.Tensor]] = {}
    experts: dict[str, dict[int, list[torch.Tensor]]] = {}
    for k, v in meg.items():
        m = re.match(r"decoder\.layers\.(\d+)\.(.+)$", k)
        if not m:
            continue
        rest = m.group(2)
        e = re.match(r"mlp\.experts\.local_experts\.(\d+)\.(.+)$", rest)
        if e:
            experts.setdefault(f"mlp.experts.experts.{e.group(2)}", {}).setdefault(int(m.group(1)), []).append(v)
        else:
            per_layer.setdefault(_dist_name(rest), []).append(v)
    for name, tensors in per_layer.items():
        out[f"decoder.layers.{name}"] = torch.stack(tensors)  # [L, ...]
    for name, by_layer in experts.items():
        out[f"decoder.layers.{name}"] = torch.stack([torch.stack(by_layer[i]) for i in range(cfg.n_layers)])
    layers = cfg.n_layers
    for mod in _EXTRA_STATE + (() if moe is not None else ("mlp.linear_fc1", "mlp.linear_fc2")):
        for i in range(layers):
            out[f"decoder.layers.{mod}._extra_state/shard_{i}_{layers}"] = _none_bytes()
    if moe is not None:
        for fc in ("linear_fc1", "linear_fc2"):
            for i in range(layers):
                for j in range(moe.num_experts):
                    shard = f"shard_{i}.{j}_{layers}.{moe.num_experts}"
                    out[f"decoder.layers.mlp.experts.experts.{fc}._extra_state/{shard}"] = _none_bytes()
    return out


def _from_global(glob: dict[str, torch.Tensor], cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    back = {te: local for local, te in _DIST_NORM_NAMES.items()}
    for k, v in glob.items():
        if not k.startswith("decoder.layers."):
            out[k] = v
            continue
        rest = k[len("decoder.layers."):]
        if rest.startswith("mlp.experts.experts."):
            tail = rest[len("mlp.experts.experts."):]
            for i in range(v.shape[0]):
                for j in range(v.shape[1]):
                    out[f"decoder.layers.{i}.mlp.experts.local_experts.{j}.{tail}"] = v[i, j]
            continue
        for te, local in back.items():
            if rest.startswith(te):
                rest = local + rest[len(te):]
        for i in range(v.shape[0]):
            out[f"decoder.layers.{i}.{rest}"] = v[i]
    return out


def _none_bytes() -> list[None]:
    """A ShardedObject's value: Megatron stores ``torch.save`` of the list of its shards' data, which is what
    ``torch.distributed.checkpoint`` writes for a non-tensor value (a BytesIO would be pickled once more)."""
    return [None]
