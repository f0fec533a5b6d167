"""Megatron-Core interop checked against megatron-core itself (installed from PyPI, 0.16.1) at random weights.

Megatron-Core's GPTModel runs on CPU here with its local (non-Transformer-Engine) spec after four test-only
patches of places where 0.16.1 assumes CUDA (``torch.cuda.current_device``, the CUDA RNG tracker, the
default causal mask, an undefined ``te_general_gemm`` without Transformer Engine); the model code itself
is unchanged. LayerNorm1P needs Transformer Engine or Apex in Megatron, so it is covered by the key layout
tests only (our stored gain − 1 is Megatron's ``--apply-layernorm-1p`` weight).
"""

from __future__ import annotations

import contextlib
import os

import pytest
import torch
import torch.nn.functional as F

from upcycling.config import GPTConfig, MoEConfig
from upcycling.megatron.layout import EXPERT_LAYOUTS, NAMINGS, from_megatron, fuse_qkv, split_qkv, to_megatron
from upcycling.model import build_model
from upcycling.upcycle import upcycle_state_dict

S = 16
CASES = {
    # name: (our config, MoE or None)
    "dense-swiglu-rms-gqa-partial-rope": (GPTConfig(vocab_size=128, n_layers=2, hidden=32, n_heads=4, n_kv_heads=2,
                                                    ffn_hidden=64, activation="swiglu", norm="rmsnorm",
                                                    rotary_percent=0.5, max_seq_len=S), None),
    "dense-gelu-layernorm-bias-tied": (GPTConfig(vocab_size=128, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64,
                                                 activation="gelu", norm="layernorm", bias=True,
                                                 tied_embeddings=True, max_seq_len=S), None),
    "moe-relu2-E4G2T2-softmax_topk": (GPTConfig(vocab_size=128, n_layers=2, hidden=32, n_heads=4, n_kv_heads=2,
                                                ffn_hidden=64, activation="squared_relu", norm="layernorm",
                                                rotary_percent=0.5, max_seq_len=S),
                                      MoEConfig.from_notation("E4G2T2")),
    "moe-swiglu-E4G1T2-topk_softmax": (GPTConfig(vocab_size=128, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64,
                                                 activation="swiglu", norm="rmsnorm", max_seq_len=S),
                                       MoEConfig(num_experts=4, topk=2, router_order="topk_softmax")),
}


def _random_state(cfg: GPTConfig, moe: MoEConfig | None) -> dict[str, torch.Tensor]:
    model = build_model(cfg, moe)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    return model.state_dict()


LAYOUT_CASES = [(n, naming, e) for n in CASES for naming in NAMINGS
                for e in (EXPERT_LAYOUTS if CASES[n][1] is not None else ("sequential",))]


@pytest.mark.parametrize(("name", "naming", "experts"), LAYOUT_CASES)
def test_megatron_layout_round_trips_bit_for_bit(name, naming, experts):
    cfg, moe = CASES[name]
    ours = _random_state(cfg, moe)
    meg = to_megatron(ours, cfg, moe, naming=naming, experts=experts)
    assert not any(v.numel() == 0 for v in meg.values())
    back = from_megatron(meg, cfg, moe)
    assert back.keys() == ours.keys()
    for k in ours:
        assert torch.equal(back[k], ours[k]), k


def test_fused_qkv_groups_query_heads_with_their_key_value_head():
    cfg = GPTConfig(hidden=32, n_heads=4, n_kv_heads=2)
    d = cfg.head_dim
    q, k, v = torch.arange(4 * d)[:, None], 100 + torch.arange(2 * d)[:, None], 200 + torch.arange(2 * d)[:, None]
    qkv = fuse_qkv(q, k, v, cfg)
    # group 0: query heads 0-1, key head 0, value head 0; then group 1
    want = torch.cat([q[: 2 * d], k[:d], v[:d], q[2 * d:], k[d:], v[d:]])
    assert torch.equal(qkv, want)
    assert all(torch.equal(a, b) for a, b in zip(split_qkv(qkv, cfg), (q, k, v)))


def test_refusals_name_the_key():
    cfg, moe = CASES["moe-relu2-E4G2T2-softmax_topk"]
    meg = to_megatron(_random_state(cfg, moe), cfg, moe)
    with pytest.raises(ValueError, match=r"no 'decoder\.layers\.0\.mlp\.linear_fc1\.weight'"):
        from_megatron(meg, cfg, None)  # an MoE checkpoint read as dense
    meg["decoder.layers.0.mlp.experts.local_experts.8.linear_fc1.weight"] = torch.zeros(32, 32)  # N = 8
    with pytest.raises(ValueError, match=r"local_experts\.8"):
        from_megatron(meg, cfg, moe)
    with pytest.raises(ValueError, match="no expert biases"):
        bias_cfg = GPTConfig(**{**cfg.__dict__, "bias": True})
        to_megatron(_random_state(bias_cfg, moe), bias_cfg, moe, experts="legacy_grouped")


# ---- against megatron-core ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcore():
    """megatron-core on one gloo rank with its CUDA assumptions patched for CPU (test-only)."""
    pytest.importorskip("megatron.core", reason="megatron-core is not installed (pip install megatron-core)")
    import torch.distributed as dist

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.cuda, "current_device", lambda: "cpu")
        import megatron.core.tensor_parallel as tp
        import megatron.core.transformer.moe.moe_utils as moe_utils
        from megatron.core import parallel_state

        class _NoRngTracker:
            def fork(self, *a, **k):
                return contextlib.nullcontext()

        mp.setattr(tp, "get_cuda_rng_tracker", lambda *a, **k: _NoRngTracker())
        mp.setattr(moe_utils, "te_general_gemm", getattr(moe_utils, "te_general_gemm", None), raising=False)
        started = not dist.is_initialized()
        if started:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
        parallel_state.initialize_model_parallel(1, 1)
        try:
            yield
        finally:
            parallel_state.destroy_model_parallel()
            if started:
                dist.destroy_process_group()


def _mcore_model(cfg: GPTConfig, moe: MoEConfig | None, dense_ffn: int | None = None):
    from megatron.core.activations import squared_relu
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.transformer_config import TransformerConfig

    act = {"swiglu": F.silu, "gelu": F.gelu, "squared_relu": squared_relu}[cfg.activation]
    tc = TransformerConfig(
        num_layers=cfg.n_layers, hidden_size=cfg.hidden, num_attention_heads=cfg.n_heads,
        num_query_groups=cfg.n_kv_heads, ffn_hidden_size=dense_ffn or cfg.ffn_hidden, kv_channels=cfg.head_dim,
        normalization="RMSNorm" if cfg.norm == "rmsnorm" else "LayerNorm", layernorm_epsilon=cfg.norm_eps,
        add_bias_linear=cfg.bias, add_qkv_bias=cfg.bias, gated_linear_unit=cfg.activation == "swiglu",
        activation_func=act, hidden_dropout=0.0, attention_dropout=0.0, init_method_std=cfg.init_std,
        use_cpu_initialization=True, bias_activation_fusion=False, masked_softmax_fusion=False,
        persist_layer_norm=False, gradient_accumulation_fusion=False, apply_rope_fusion=False,
        num_moe_experts=None if moe is None else moe.num_experts,
        moe_ffn_hidden_size=None if moe is None else moe.expert_ffn_hidden(cfg.ffn_hidden),
        moe_router_topk=2 if moe is None else moe.topk,
        moe_router_pre_softmax=moe is not None and moe.router_order == "softmax_topk",
        moe_token_dispatcher_type="allgather", moe_aux_loss_coeff=0.0, moe_router_load_balancing_type="none",
        moe_permute_fusion=False, moe_grouped_gemm=False,
    )
    spec = get_gpt_layer_local_spec(num_experts=tc.num_moe_experts, moe_grouped_gemm=False,
                                    normalization=tc.normalization)
    return GPTModel(config=tc, transformer_layer_spec=spec, vocab_size=cfg.vocab_size, max_sequence_length=S,
                    position_embedding_type="rope", rotary_percent=cfg.rotary_percent, rotary_base=int(cfg.rope_theta),
                    share_embeddings_and_output_weights=cfg.tied_embeddings).eval()


def _mcore_logits(model, tokens: torch.Tensor) -> torch.Tensor:
    pos = torch.arange(tokens.shape[1]).expand_as(tokens)
    mask = torch.triu(torch.ones(1, 1, tokens.shape[1], tokens.shape[1], dtype=torch.bool), diagonal=1)
    with torch.no_grad():
        return model(tokens, pos, attention_mask=mask)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_our_weights_in_megatron_core_give_our_logits(mcore, name):
    cfg, moe = CASES[name]
    ours = build_model(cfg, moe).eval()
    ours.load_state_dict(_random_state(cfg, moe))
    meg = _mcore_model(cfg, moe)
    missing, unexpected = meg.load_state_dict(to_megatron(ours.state_dict(), cfg, moe), strict=False)
    assert not unexpected and all(k.endswith("_extra_state") for k in missing), (missing, unexpected)
    tokens = torch.randint(0, cfg.vocab_size, (2, S), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = ours(tokens).logits
    got = _mcore_logits(meg, tokens)
    torch.testing.assert_close(got, want, atol=2e-5, rtol=1e-5)
    # and back: megatron's own state dict (its key set, _extra_state included) reads into ours unchanged
    back = from_megatron(meg.state_dict(), cfg, moe)
    for k, v in ours.state_dict().items():
        assert torch.equal(back[k], v), k


@pytest.mark.slow
def test_megatron_core_upcycling_equals_ours_through_the_layout(mcore):
    """megatron-core's ``upcycling_utils.upcycle_state_dict`` on the Megatron twin of our dense model gives,
    read back with ``from_megatron``, exactly our ``upcycle_state_dict`` experts (granular, weight-scaled,
    softmax-then-topK), and the MoE it builds gives the same logits in both codes."""
    from megatron.core.transformer.moe.upcycling_utils import upcycle_state_dict as mcore_upcycle

    cfg, moe = CASES["moe-relu2-E4G2T2-softmax_topk"]
    dense_state = _random_state(cfg, None)
    dense = _mcore_model(cfg, None)
    dense.load_state_dict(to_megatron(dense_state, cfg, None), strict=False)
    meg_moe = _mcore_model(cfg, moe, dense_ffn=cfg.ffn_hidden)
    up = mcore_upcycle([meg_moe], [dense])["model"]
    got = from_megatron(up, cfg, moe)
    want = upcycle_state_dict(dense_state, cfg, moe, generator=torch.Generator().manual_seed(0))
    for k in want:
        if not k.endswith("router.weight"):  # routers: Megatron tiles its own random rows; ours are seeded
            assert torch.equal(got[k], want[k]), k
    meg_moe.load_state_dict(up, strict=False)
    ours = build_model(cfg, moe).eval()
    ours.load_state_dict(got)
    tokens = torch.randint(0, cfg.vocab_size, (2, S), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(_mcore_logits(meg_moe, tokens), ours(tokens).logits, atol=2e-5, rtol=1e-5)


@pytest.mark.slow
def test_megatron_lm_parser_accepts_the_paper_launch_flags(monkeypatch):
    """Megatron-LM's own argument parser parses every flag of both paper recipes to the values we meant.

    ``megatron.training`` is not part of the megatron-core wheel: this needs a Megatron-LM checkout of the
    installed core's release (``MEGATRON_LM=/path``, e.g. tag core_v0.16.1). Its package ``__init__`` imports
    triton (GPU-only), so only ``megatron.training.arguments`` and what it imports are loaded."""
    import sys
    import types

    root = os.environ.get("MEGATRON_LM")
    if not root or not os.path.isfile(os.path.join(root, "megatron", "training", "arguments.py")):
        pytest.skip("set MEGATRON_LM to a Megatron-LM checkout (tag core_v0.16.1) to run Megatron's parser")
    pytest.importorskip("megatron.core")
    monkeypatch.setattr(sys, "path", [*sys.path, root])  # after site-packages: the installed megatron.core wins
    pkg = types.ModuleType("megatron.training")
    pkg.__path__ = [os.path.join(root, "megatron", "training")]
    monkeypatch.setitem(sys.modules, "megatron.training", pkg)
    import megatron.training.global_vars as global_vars

    for n in dir(global_vars):
        if n.startswith(("get_", "set_")):
            setattr(pkg, n, getattr(global_vars, n))
    from megatron.training.arguments import parse_args

    from upcycling.megatron.launch import NEMOTRON4_15B, PAPER_RECIPES, megatron_args

    for recipe, r in PAPER_RECIPES.items():
        argv = megatron_args(recipe, load="/ckpt/dense", save="/ckpt/moe", data_path=["/data/blend"],
                             tokenizer_model="/tok/model")
        monkeypatch.setattr(sys, "argv", ["pretrain_gpt.py", *argv])
        a = parse_args()  # an unknown flag or bad value exits here
        got = {k: getattr(a, k) for k in ("num_experts", "moe_router_topk", "moe_upcycling_granularity",
                                          "moe_ffn_hidden_size", "moe_router_pre_softmax", "moe_aux_loss_coeff",
                                          "moe_use_upcycling", "lr", "min_lr", "lr_decay_style", "seq_length",
                                          "global_batch_size", "num_layers", "hidden_size", "num_query_groups",
                                          "ffn_hidden_size", "rotary_percent", "layernorm_zero_centered_gamma",
                                          "squared_relu", "add_bias_linear", "untie_embeddings_and_output_weights",
                                          "normalization", "ckpt_format", "bf16")}
        assert got == {"num_experts": r.moe.num_experts, "moe_router_topk": r.moe.topk,
                       "moe_upcycling_granularity": r.moe.granularity,
                       "moe_ffn_hidden_size": NEMOTRON4_15B.ffn_hidden // r.moe.granularity,
                       "moe_router_pre_softmax": True, "moe_aux_loss_coeff": [0.01], "moe_use_upcycling": True,
                       "lr": 3e-4, "min_lr": 4.5e-7, "lr_decay_style": "cosine", "seq_length": 4096,
                       "global_batch_size": r.global_batch_size, "num_layers": 32, "hidden_size": 6144,
                       "num_query_groups": 8, "ffn_hidden_size": 24576, "rotary_percent": 0.5,
                       "layernorm_zero_centered_gamma": True, "squared_relu": True, "add_bias_linear": False,
                       "untie_embeddings_and_output_weights": True, "normalization": "LayerNorm",
                       "ckpt_format": "torch_dist", "bf16": True}, recipe
        assert a.moe_z_loss_coeff in (None, 0.0)  # no z-loss (paper §3.3); 0.16 keeps α as a per-layer list


# ---- checkpoints ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["torch_dist", "legacy"])
@pytest.mark.parametrize("name", ["dense-gelu-layernorm-bias-tied", "moe-relu2-E4G2T2-softmax_topk"])
def test_megatron_checkpoint_round_trip_with_configs(tmp_path, name, fmt):
    from upcycling.megatron.checkpoint import TRACKER, load, save

    cfg, moe = CASES[name]
    ours = _random_state(cfg, moe)
    where = save(ours, cfg, moe, tmp_path / "ckpt", iteration=7, fmt=fmt)
    assert where.name == "iter_0000007" and (tmp_path / "ckpt" / TRACKER).read_text() == "7"
    back, cfg2, moe2 = load(tmp_path / "ckpt")
    assert cfg2 == cfg and (moe2 is None) == (moe is None)
    if moe is not None:
        assert (moe2.num_experts, moe2.topk, moe2.granularity, moe2.router_order, moe2.aux_loss_coeff) == \
            (moe.num_experts, moe.topk, moe.granularity, moe.router_order, moe.aux_loss_coeff)
    assert back.keys() == ours.keys() and all(torch.equal(back[k], ours[k]) for k in ours)
    with pytest.raises(FileExistsError, match="iter_0000007 exists"):
        save(ours, cfg, moe, tmp_path / "ckpt", iteration=7, fmt=fmt)


def test_a_split_legacy_checkpoint_is_refused_naming_megatrons_converter(tmp_path):
    from upcycling.megatron.checkpoint import load

    for r in ("mp_rank_00", "mp_rank_01"):
        (tmp_path / "iter_0000001" / r).mkdir(parents=True)
    with pytest.raises(ValueError, match=r"tools/checkpoint/convert\.py"):
        load(tmp_path / "iter_0000001")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense-swiglu-rms-gqa-partial-rope", "moe-relu2-E4G2T2-softmax_topk"])
def test_torch_dist_checkpoints_are_megatron_cores_format_both_ways(mcore, tmp_path, name, monkeypatch):
    """Our torch_dist writer has Megatron's keys and global shapes; megatron-core's ``dist_checkpointing.load``
    reads it into its GPTModel with our logits; our reader reads what megatron-core's save wrote."""
    import torch.distributed.checkpoint as dcp
    from megatron.core import dist_checkpointing

    from upcycling.megatron.checkpoint import load, megatron_namespace, save

    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)  # megatron-core's writer calls it
    cfg, moe = CASES[name]
    ours_state = _random_state(cfg, moe)
    ours_dir = save(ours_state, cfg, moe, tmp_path / "ours", fmt="torch_dist")
    meg = _mcore_model(cfg, moe)
    meg.load_state_dict(to_megatron(ours_state, cfg, moe), strict=False)
    theirs_dir = tmp_path / "theirs"
    theirs_dir.mkdir()
    dist_checkpointing.save({"model": meg.sharded_state_dict(), "args": megatron_namespace(cfg, moe, 1),
                             "iteration": 1, "checkpoint_version": 3.0}, str(theirs_dir))

    def shapes(d):
        md = dcp.FileSystemReader(str(d)).read_metadata().state_dict_metadata
        return {k: tuple(m.size) if hasattr(m, "size") else "bytes" for k, m in md.items()}

    assert shapes(ours_dir) == shapes(theirs_dir)
    fresh = _mcore_model(cfg, moe)
    loaded = dist_checkpointing.load(fresh.sharded_state_dict(), str(ours_dir))
    fresh.load_state_dict(loaded, strict=False)
    tokens = torch.randint(0, cfg.vocab_size, (2, S), generator=torch.Generator().manual_seed(3))
    model = build_model(cfg, moe).eval()
    model.load_state_dict(ours_state)
    with torch.no_grad():
        torch.testing.assert_close(_mcore_logits(fresh, tokens), model(tokens).logits, atol=2e-5, rtol=1e-5)
    back, _, _ = load(theirs_dir)
    assert all(torch.equal(back[k], ours_state[k]) for k in ours_state)


def test_cli_upcycles_into_a_megatron_folder_and_reads_it_back(tmp_path, capsys):
    from ninerepro.train.checkpoint import save_checkpoint
    from upcycling.cli import main

    cfg, _ = CASES["dense-swiglu-rms-gqa-partial-rope"]
    dense = _random_state(cfg, None)
    src = save_checkpoint({"model": dense, "config": {"model": cfg.__dict__, "moe": None}}, tmp_path / "dense", 1)
    assert main(["to-megatron", "--model", str(src), "--out", str(tmp_path / "meg"), "--moe", "E2G2T2",
                 "--router", "topk-softmax", "--glu-scaling", "exact", "--seed", "3"]) == 0
    assert "E2G2T2" in capsys.readouterr().out
    assert main(["from-megatron", "--load", str(tmp_path / "meg"), "--out", str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    moe = MoEConfig.from_notation("E2G2T2", router_order="topk_softmax")
    want = upcycle_state_dict(dense, cfg, moe, glu_scaling="exact", generator=torch.Generator().manual_seed(3))
    assert back["config"]["moe"]["num_experts"] == 4 and back["config"]["moe"]["router_order"] == "topk_softmax"
    assert back["model"].keys() == want.keys() and all(torch.equal(back["model"][k], want[k]) for k in want)
    # a Megatron folder is an upcycling source like ours (upcycle upcycle --dense, train.py --init-from)
    assert main(["upcycle", "--dense", str(tmp_path / "meg"), "--out", str(tmp_path / "again.pt"), "--moe",
                 "E2G2T2"]) == 2  # already an MoE: refused, naming both
    assert "already an MoE" in capsys.readouterr().err
    assert main(["to-megatron", "--model", str(src), "--out", str(tmp_path / "meg_dense"), "--format", "legacy"]) == 0
    assert main(["upcycle", "--dense", str(tmp_path / "meg_dense"), "--out", str(tmp_path / "up.pt"), "--moe",
                 "E2G2T2", "--router", "topk-softmax", "--glu-scaling", "exact", "--seed", "3"]) == 0
    up = torch.load(tmp_path / "up.pt", weights_only=True)["model"]
    assert all(torch.equal(up[k], want[k]) for k in want)
    capsys.readouterr()
    # refusals: one line, exit code 2
    assert main(["from-megatron", "--load", str(tmp_path / "meg"), "--out", str(tmp_path / "back.pt")]) == 2
    assert main(["from-megatron", "--load", str(tmp_path), "--out", str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--overwrite" in err[0] and "not a Megatron-LM checkpoint" in err[1]


def test_paper_launch_dry_run_prints_the_torchrun_command_and_refuses_a_missing_checkout(tmp_path, capsys):
    from upcycling.megatron.launch import main

    assert main(["--recipe", "E8G8T8", "--load", "/ckpt/dense", "--save", str(tmp_path / "moe"), "--data-path",
                 "/data/a", "--tokenizer-model", "/tok", "--dry-run"]) == 0
    cmd = capsys.readouterr().out
    for flag in ("--num-experts 64", "--moe-router-topk 8", "--moe-upcycling-granularity 8", "--moe-use-upcycling",
                 "--moe-router-pre-softmax", "--moe-aux-loss-coeff 0.01", "--moe-ffn-hidden-size 3072",
                 "--lr 0.0003", "--lr-decay-style cosine", "--apply-layernorm-1p", "--squared-relu",
                 "--rotary-percent 0.5", "--load /ckpt/dense"):
        assert flag in cmd, flag
    assert "z-loss" not in cmd
    (tmp_path / "moe").mkdir()
    (tmp_path / "moe" / "latest_checkpointed_iteration.txt").write_text("1")  # resuming: no upcycling, load save
    main(["--recipe", "E8G1T2", "--load", "/d", "--save", str(tmp_path / "moe"), "--data-path", "/a",
          "--tokenizer-model", "/t", "--dry-run"])
    cmd = capsys.readouterr().out
    assert "--moe-use-upcycling" not in cmd and f"--load {tmp_path / 'moe'}" in cmd
    assert main(["--recipe", "E8G1T2", "--megatron-lm", str(tmp_path), "--load", "/d", "--save", "/s",
                 "--data-path", "/a", "--tokenizer-model", "/t"]) == 2
    assert "pretrain_gpt.py not found" in capsys.readouterr().err


@pytest.mark.slow
def test_megatron_core_loads_our_torch_dist_checkpoint_at_tensor_and_expert_parallel_2():
    """2 forked gloo ranks in a fresh process (megatron_parallel_check.py): TP=2 dense and EP=2 MoE."""
    import subprocess
    import sys

    pytest.importorskip("megatron.core")
    script = os.path.join(os.path.dirname(__file__), "megatron_parallel_check.py")
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    print(proc.stdout)
    lines = [line for line in proc.stdout.splitlines() if "max_abs_diff=" in line]
    assert proc.returncode == 0 and len(lines) == 2, proc.stdout + proc.stderr[-3000:]


def test_an_hf_llama_goes_to_megatron_upcycled_and_gives_the_hf_logits_back(tmp_path):
    """HF → Megatron: a tiny random Llama folder, upcycled on the way (E2G2T2, topk-softmax, exact scaling:
    dense-equal), written as torch_dist, read back into our GPT: transformers' dense logits within 1e-4."""
    from upcycling.cli import main
    from upcycling.hf.tiny import make_tiny_dense
    from upcycling.megatron.checkpoint import load

    hf = make_tiny_dense(tmp_path / "llama", tokenizer=False)
    assert main(["to-megatron", "--model", str(tmp_path / "llama"), "--out", str(tmp_path / "meg"), "--moe",
                 "E2G2T2", "--router", "topk-softmax", "--glu-scaling", "exact"]) == 0
    state, cfg, moe = load(tmp_path / "meg")
    ours = build_model(cfg, moe).eval()
    ours.load_state_dict(state)
    tokens = torch.randint(0, cfg.vocab_size, (2, 16), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(ours(tokens).logits, hf(tokens).logits, atol=1e-4, rtol=0)
