"""Options beyond the paper's layout (issue 18 item 8): shared experts, MoE layer frequency, expert-bias balancing.

Each: the config refuses bad values, the model has the parameters and routing it should, upcycling handles
it (step 0 as exact as the routed rule alone), and a checkpoint round trip keeps it.
"""

import pytest
import torch

from ninerepro.train import OptimizerConfig, TrainerConfig
from ninerepro.train.checkpoint import save_checkpoint
from upcycling.activations import fc1_rows
from upcycling.config import DataConfig, GPTConfig, MoEConfig, RunConfig
from upcycling.experiments import _active_params
from upcycling.model import DenseMLP, build_model
from upcycling.moe.balance import ExpertBiasBalancer, expert_bias_update
from upcycling.moe.layer import MoELayer
from upcycling.moe.router import Router, route, tokens_per_expert
from upcycling.train import run
from upcycling.upcycle import upcycle_state_dict


def tiny(**overrides) -> GPTConfig:
    base = dict(vocab_size=64, n_layers=4, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=32)
    return GPTConfig(**{**base, **overrides})


def _upcycle(cfg, moe, scaling=True, seed=1):
    torch.manual_seed(0)
    dense = build_model(cfg).eval()
    model = build_model(cfg, moe).eval()
    sd = upcycle_state_dict(dense.state_dict(), cfg, moe, weight_scaling=scaling,
                            generator=torch.Generator().manual_seed(seed))
    model.load_state_dict(sd, strict=True)
    return dense, model, sd


@pytest.mark.parametrize("field, value, match", [
    ("shared_experts", -1, "moe.shared_experts must be >= 0"),
    ("moe_every", 0, "moe.moe_every must be >= 1"),
    ("expert_bias_rate", 0.0, "moe.expert_bias_rate must be > 0"),
])
def test_bad_option_values_are_refused_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        MoEConfig(**{field: value})


def test_the_defaults_are_the_papers_layout():
    moe = MoEConfig()
    assert (moe.shared_experts, moe.moe_every, moe.expert_bias) == (0, 1, False) and moe.beyond_paper() == []
    assert MoEConfig(shared_experts=2, moe_every=2, expert_bias=True).beyond_paper() == [
        "moe.shared_experts=2", "moe.moe_every=2", "moe.expert_bias=true"]


# ---- shared experts -------------------------------------------------------------------------------------

def test_shared_experts_add_s_expert_sized_mlps_per_moe_layer():
    cfg = tiny(activation="swiglu")
    moe = MoEConfig.from_notation("E4G2T2")
    base = sum(p.numel() for p in build_model(cfg, moe).parameters())
    with_shared = build_model(cfg, MoEConfig.from_notation("E4G2T2", shared_experts=2))
    f_e = moe.expert_ffn_hidden(cfg.ffn_hidden)
    per_expert = fc1_rows("swiglu", f_e) * cfg.hidden + cfg.hidden * f_e
    assert sum(p.numel() for p in with_shared.parameters()) - base == cfg.n_layers * 2 * per_expert
    assert with_shared.layers[0].mlp.shared_experts.fc2.weight.shape == (cfg.hidden, 2 * f_e)


def test_the_shared_experts_see_every_token_beside_the_routed_ones():
    moe = MoEConfig(num_experts=4, topk=1, shared_experts=1)
    layer = MoELayer(16, 32, "gelu", False, moe)
    x = torch.randn(10, 16)
    with torch.no_grad():
        layer.experts.w2.zero_()  # routed part contributes nothing: the output is the shared MLP alone
    torch.testing.assert_close(layer(x)[0], layer.shared_experts(x))
    assert float(layer.shared_experts(x).detach().abs().min()) > 0


@pytest.mark.parametrize("name, shared, activation, bias", [
    ("E8G1T2", 1, "squared_relu", False), ("E8G1T2", 2, "swiglu", True), ("E8G4T4", 4, "squared_relu", True),
    ("E8G1T2", 1, "gelu", False), ("E4G2T2", 2, "squared_relu", False),  # granular gelu: paper rule approximate
])
def test_upcycled_shared_experts_keep_the_topk_softmax_model_equal_to_dense(name, shared, activation, bias):
    cfg = tiny(activation=activation, bias=bias)
    moe = MoEConfig.from_notation(name, shared_experts=shared, router_order="topk_softmax")
    dense, model, sd = _upcycle(cfg, moe)
    tokens = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(model(tokens).logits, dense(tokens).logits, atol=1e-5, rtol=0)
    if bias:  # the shared fc2 bias starts at 0: the routed experts carry the dense bias
        assert sd["layers.0.mlp.shared_experts.fc2.bias"].eq(0).all()


def test_shared_experts_split_the_dense_output_in_halves():
    """Each half of the upcycled layer (shared, routed) carries dense/2 at step 0 (topK-then-softmax)."""
    cfg = tiny(n_layers=1)
    moe = MoEConfig.from_notation("E4G2T2", shared_experts=2, router_order="topk_softmax")
    dense, model, _ = _upcycle(cfg, moe)
    x = torch.randn(12, cfg.hidden)
    layer, mlp = model.layers[0].mlp, dense.layers[0].mlp
    with torch.no_grad():
        torch.testing.assert_close(layer.shared_experts(x), mlp(x)[0] / 2, atol=1e-6, rtol=1e-5)
        _, unscaled, _ = _upcycle(cfg, moe, scaling=False)  # no scaling: S/G = 1 full dense copy
        torch.testing.assert_close(unscaled.layers[0].mlp.shared_experts(x), mlp(x)[0], atol=1e-6, rtol=1e-5)


def test_shared_experts_that_are_not_whole_dense_copies_are_refused():
    cfg = tiny()
    with pytest.raises(ValueError, match=r"moe.shared_experts=2 is not a multiple of granularity G=4"):
        _upcycle(cfg, MoEConfig.from_notation("E2G4T4", shared_experts=2))


# ---- MoE layer frequency --------------------------------------------------------------------------------

def test_moe_every_two_keeps_every_second_mlp_dense():
    cfg = tiny()
    moe = MoEConfig.from_notation("E4G1T2", moe_every=2)
    model = build_model(cfg, moe)
    kinds = [type(b.mlp) for b in model.layers]
    assert kinds == [MoELayer, DenseMLP, MoELayer, DenseMLP] and moe.moe_layers(4) == [0, 2]
    assert len(model(torch.randint(0, 64, (1, 8))).moe) == 2
    dense_n = sum(p.numel() for p in build_model(cfg).parameters())
    every_n = sum(p.numel() for p in build_model(cfg, MoEConfig.from_notation("E4G1T2")).parameters())
    half_n = sum(p.numel() for p in model.parameters())
    assert half_n - dense_n == (every_n - dense_n) // 2
    run_cfg = RunConfig(model=cfg, moe=moe, data=DataConfig(seq_len=16))
    per_expert = 2 * cfg.hidden * cfg.ffn_hidden
    assert _active_params(run_cfg, half_n) == half_n - 2 * (4 - 2) * per_expert


def test_an_interleaved_upcycle_copies_the_dense_layers_and_draws_routers_for_moe_layers_only():
    cfg = tiny()
    every = MoEConfig.from_notation("E4G1T2", router_order="topk_softmax")
    dense, model, sd = _upcycle(cfg, MoEConfig.from_notation("E4G1T2", router_order="topk_softmax", moe_every=2))
    _, _, sd_all = _upcycle(cfg, every)
    dsd = dense.state_dict()
    for k in ("layers.1.mlp.fc1.weight", "layers.3.mlp.fc2.weight"):
        assert torch.equal(sd[k], dsd[k])
    # the second router drawn belongs to layer 2 here, to layer 1 when every layer is MoE
    assert torch.equal(sd["layers.0.mlp.router.weight"], sd_all["layers.0.mlp.router.weight"])
    assert torch.equal(sd["layers.2.mlp.router.weight"], sd_all["layers.1.mlp.router.weight"])
    tokens = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(model(tokens).logits, dense(tokens).logits, atol=1e-5, rtol=0)


# ---- expert bias ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["softmax_topk", "topk_softmax"])
def test_the_expert_bias_changes_the_choice_but_not_the_weights(order):
    logits = torch.randn(50, 6)
    bias = torch.tensor([10.0, 0, 0, 0, 0, 0])  # large enough to put expert 0 in every token's top-2
    plain, biased = route(logits, 2, order), route(logits, 2, order, bias)
    assert (biased.indices == 0).any(-1).all() and not (plain.indices == 0).any(-1).all()
    if order == "softmax_topk":
        torch.testing.assert_close(biased.weights, plain.probs.gather(-1, biased.indices))
    else:
        torch.testing.assert_close(biased.weights, torch.softmax(logits.gather(-1, biased.indices), -1))
    torch.testing.assert_close(route(logits, 2, order, torch.zeros(6)).indices, plain.indices)


def test_the_bias_update_is_gamma_times_the_sign_of_the_load_error():
    b = expert_bias_update(torch.zeros(4), torch.tensor([8, 2, 5, 5]), 1e-3)
    torch.testing.assert_close(b, torch.tensor([-1e-3, 1e-3, 0.0, 0.0]))


def test_bias_updates_balance_a_router_that_prefers_one_expert():
    """Frozen logits that favour expert 0: the sign rule alone drives the load towards uniform."""
    torch.manual_seed(0)
    logits = torch.randn(512, 8) + torch.tensor([2.0, 1.0, 0, 0, 0, 0, 0, 0])
    bias = torch.zeros(8)

    def max_load(b):
        counts = tokens_per_expert(route(logits, 2, "softmax_topk", b).indices, 8).float()
        return float(counts.max() / counts.mean()), counts

    start, _ = max_load(bias)
    for _ in range(300):
        bias = expert_bias_update(bias, max_load(bias)[1], 1e-2)
    end, _ = max_load(bias)
    assert start > 2.5 and end < 1.3, (start, end)


def test_the_expert_bias_is_model_state_in_fp32():
    moe = MoEConfig(num_experts=4, topk=2, expert_bias=True)
    layer = MoELayer(16, 32, "gelu", False, moe)
    assert "router.expert_bias" in layer.state_dict()
    with torch.no_grad():
        layer.router.expert_bias.fill_(0.3001)
    layer.to(torch.bfloat16)
    assert layer.router.weight.dtype == torch.bfloat16 and layer.router.expert_bias.dtype == torch.float32
    assert float(layer.router.expert_bias[0]) == pytest.approx(0.3001, abs=1e-7)
    assert "expert_bias" not in Router(16, 4, 2, "softmax_topk").state_dict()


def test_the_balancer_sums_a_steps_micro_batches_and_moves_each_layer_once():
    model = build_model(tiny(), MoEConfig.from_notation("E4G1T2", expert_bias=True, moe_every=2,
                                                        expert_bias_rate=0.01))
    balancer = ExpertBiasBalancer(model)
    assert len(balancer.layers) == 2
    for _ in range(2):
        balancer.record(model(torch.randint(0, 64, (2, 8))).moe)
    want = [expert_bias_update(torch.zeros(4), c, 0.01) for c in balancer.pending]
    balancer.update()
    for layer, w in zip(balancer.layers, want, strict=True):
        torch.testing.assert_close(layer.router.expert_bias, w)
    balancer.update()  # nothing recorded since: no second move
    torch.testing.assert_close(balancer.layers[0].router.expert_bias, want[0])
    assert not ExpertBiasBalancer(build_model(tiny(), MoEConfig()))


# ---- training, checkpoints, sharded loading, exporters --------------------------------------------------

def _run_cfg(tokens, moe, steps):
    model = GPTConfig(vocab_size=256, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=16)
    tr = TrainerConfig(max_steps=steps, device="cpu", precision="fp32", log_every=1, ckpt_every=2, keep_last=0,
                       tensorboard=False, progress=False, optimizer=OptimizerConfig(name="adamw", lr=1e-3))
    return RunConfig(model=model, moe=moe, data=DataConfig(path=tokens, seq_len=16, batch_size=4, val_batches=2),
                     train=tr)


def test_a_run_with_every_option_moves_the_biases_each_step_and_resumes_exactly(tokens, tmp_path):
    moe = MoEConfig.from_notation("E4G2T2", shared_experts=2, moe_every=2, expert_bias=True, expert_bias_rate=0.01)
    full = run(_run_cfg(tokens, moe, 4), tmp_path / "full")
    bias = full.model.layers[0].mlp.router.expert_bias
    steps = bias / 0.01  # four steps of ±γ or 0 each: an integer in [-4, 4]
    assert bias.abs().max() > 0 and torch.allclose(steps, steps.round(), atol=1e-4) and steps.abs().max() <= 4
    run(_run_cfg(tokens, moe, 2), tmp_path / "cut")
    resumed = run(_run_cfg(tokens, moe, 4), tmp_path / "cut")
    want, got = full.model.state_dict(), resumed.model.state_dict()
    assert "layers.0.mlp.router.expert_bias" in got and "layers.1.mlp.fc1.weight" in got
    assert "layers.0.mlp.shared_experts.fc1.weight" in got
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=0, atol=0, msg=k)


def test_the_lazy_sharded_source_gives_the_in_memory_upcycle_for_every_option(tmp_path):
    from upcycling.sharded import LazyUpcycledSource, build_on_meta, load_sharded, reset_buffers

    cfg = tiny(vocab_size=256, max_seq_len=16)
    moe = MoEConfig.from_notation("E4G2T2", shared_experts=2, moe_every=2, expert_bias=True)
    dense = build_model(cfg)
    path = save_checkpoint({"model": dense.state_dict(), "config": {"model": cfg.__dict__, "moe": None}},
                           tmp_path / "dense", 1)
    want = upcycle_state_dict(dense.state_dict(), cfg, moe, generator=torch.Generator().manual_seed(5))
    model = build_on_meta(cfg, moe)
    model.to_empty(device="cpu")
    reset_buffers(model)
    load_sharded(model, LazyUpcycledSource(path, cfg, moe, weight_scaling=True, glu_scaling="paper",
                                           router_init_std=0.02, seed=5))
    got = model.state_dict()
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k


def test_exporters_refuse_options_outside_the_papers_layout():
    from upcycling.hf.ours import check_hf_compatible
    from upcycling.megatron.layout import to_megatron

    cfg = tiny(activation="swiglu")
    moe = MoEConfig.from_notation("E4G1T2", moe_every=2)
    with pytest.raises(ValueError, match=r"moe.moe_every=2: the HF export writes the paper's layout only"):
        check_hf_compatible(cfg, moe)
    with pytest.raises(ValueError, match=r"moe.moe_every=2: `upcycle to-megatron` writes the paper's layout"):
        to_megatron(build_model(cfg, moe).state_dict(), cfg, moe)
