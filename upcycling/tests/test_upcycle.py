"""The paper's step-0 invariants of upcycling, in fp32."""

import pytest
import torch

from upcycling.config import GPTConfig, MoEConfig
from upcycling.model import DenseMLP, build_model
from upcycling.moe.layer import MoELayer
from upcycling.upcycle import activation_scale, check_moe_shape, upcycle_state_dict, weight_factors, weight_scale


def tiny_gpt(**overrides) -> GPTConfig:
    base = dict(vocab_size=64, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=32)
    return GPTConfig(**{**base, **overrides})


def _upcycled_pair(name, order="topk_softmax", scaling=True, glu_scaling="paper", **gpt):
    torch.manual_seed(0)  # the same dense weights for every call
    cfg = tiny_gpt(**gpt)
    moe = MoEConfig.from_notation(name, router_order=order)
    dense = build_model(cfg).eval()
    moe_model = build_model(cfg, moe).eval()
    sd = upcycle_state_dict(dense.state_dict(), cfg, moe, weight_scaling=scaling, glu_scaling=glu_scaling,
                            generator=torch.Generator().manual_seed(1))
    moe_model.load_state_dict(sd, strict=True)
    return cfg, moe, dense, moe_model


def _mlp_pair(name, order, scaling, activation="squared_relu", bias=False):
    """One dense MLP and its upcycled MoE layer (layer 0 of an upcycled tiny GPT)."""
    cfg, moe, dense, moe_model = _upcycled_pair(name, order, scaling, activation=activation, bias=bias)
    mlp = DenseMLP(cfg)
    mlp.load_state_dict({k.split("mlp.")[1]: v for k, v in dense.state_dict().items() if k.startswith("layers.0.mlp.")})
    layer = MoELayer(cfg.hidden, moe.expert_ffn_hidden(cfg.ffn_hidden), activation, bias, moe)
    layer.load_state_dict({k.split("mlp.")[1]: v for k, v in moe_model.state_dict().items()
                           if k.startswith("layers.0.mlp.")})
    x = torch.randn(64, cfg.hidden, generator=torch.Generator().manual_seed(2))
    return mlp(x)[0], layer(x)[0], moe


@pytest.mark.parametrize("activation", ["squared_relu", "swiglu", "gelu"])
@pytest.mark.parametrize("bias", [False, True])
def test_coarse_topk_then_softmax_logits_equal_the_dense_model(activation, bias):
    _, _, dense, moe_model = _upcycled_pair("E8G1T2", activation=activation, bias=bias)
    tokens = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(moe_model(tokens).logits, dense(tokens).logits, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["E8G8T8", "E2G2T2", "E4G2T4", "E2G4T8"])
def test_granular_virtual_groups_give_dense_over_g_before_scaling(name):
    y_dense, y_moe, moe = _mlp_pair(name, "topk_softmax", scaling=False)
    torch.testing.assert_close(y_moe, y_dense / moe.granularity, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", ["E8G8T8", "E2G2T2", "E4G2T4"])
@pytest.mark.parametrize("bias", [False, True])
def test_granular_virtual_groups_with_weight_scaling_equal_dense(name, bias):
    y_dense, y_moe, _ = _mlp_pair(name, "topk_softmax", scaling=True, bias=bias)
    torch.testing.assert_close(y_moe, y_dense, atol=1e-5, rtol=1e-5)


def test_granular_upcycled_gpt_logits_equal_dense_after_scaling():
    _, _, dense, moe_model = _upcycled_pair("E8G8T8", activation="squared_relu")
    tokens = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(moe_model(tokens).logits, dense(tokens).logits, atol=1e-5, rtol=0)


@pytest.mark.parametrize("bias", [False, True])
def test_exact_glu_scaling_makes_granular_swiglu_logits_equal_dense(bias):
    _, _, dense, moe_model = _upcycled_pair("E2G4T4", glu_scaling="exact", activation="swiglu", bias=bias)
    tokens = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(moe_model(tokens).logits, dense(tokens).logits, atol=1e-5, rtol=0)


def test_the_papers_cube_root_rule_is_only_approximate_for_swiglu():
    """silu is not homogeneous, so s^(1/3) on gate, up and down misses the dense output (README, step 0)."""
    _, _, dense, moe_model = _upcycled_pair("E2G4T4", glu_scaling="paper", activation="swiglu")
    tokens = torch.randint(0, 64, (2, 16))
    ref, out = dense(tokens).logits, moe_model(tokens).logits
    print(f"E2G4T4 SwiGLU, paper rule: max |Δ| {(out - ref).abs().max():.2e}, "
          f"relative {(out - ref).norm() / ref.norm():.2e}")
    assert (out - ref).abs().max() > 1e-4  # measurably off ...
    assert ((out - ref).norm() / ref.norm()) < 0.05  # ... but close


def test_weight_factors_of_the_two_glu_rules():
    moe = MoEConfig.from_notation("E2G4T4", router_order="topk_softmax")  # s = G = 4
    assert weight_factors(moe, "swiglu") == pytest.approx({"gate": 4 ** (1 / 3), "up": 4 ** (1 / 3),
                                                           "down": 4 ** (1 / 3)})
    assert weight_factors(moe, "swiglu", glu_scaling="exact") == {"gate": 1.0, "up": 2.0, "down": 2.0}
    assert weight_factors(moe, "squared_relu") == pytest.approx({"up": 4 ** (1 / 3), "down": 4 ** (1 / 3)})
    assert weight_factors(moe, "swiglu", weight_scaling=False, glu_scaling="exact") == dict.fromkeys(
        ("gate", "up", "down"), 1.0)
    with pytest.raises(ValueError, match="needs a gated MLP"):
        weight_factors(moe, "gelu", glu_scaling="exact")


def test_virtual_group_router_rows_are_tied_and_experts_cycle_through_shards():
    _, _, dense, moe_model = _upcycled_pair("E2G4T4", scaling=False)
    sd = moe_model.state_dict()
    r = sd["layers.0.mlp.router.weight"]  # [8, h]
    assert torch.equal(r[0], r[3]) and torch.equal(r[4], r[7]) and not torch.equal(r[0], r[4])
    w2 = sd["layers.0.mlp.experts.w2"]  # [8, h, F/4]
    fc2 = dense.state_dict()["layers.0.mlp.fc2.weight"]  # [h, F]
    torch.testing.assert_close(torch.cat(list(w2[:4]), dim=1), fc2)
    assert torch.equal(w2[1], w2[5])


def test_softmax_then_topk_with_scaling_stays_near_dense_at_init():
    """Measured, not exact: p ≈ 1/N only on average, so the scale E·G²/T is approximate (README, 'init')."""
    for name in ("E8G1T2", "E8G8T8", "E2G2T2"):
        y_dense, y_raw, moe = _mlp_pair(name, "softmax_topk", scaling=False)
        _, y_scaled, _ = _mlp_pair(name, "softmax_topk", scaling=True)
        raw_ratio = (y_raw.norm() / y_dense.norm()).item()
        ratio = (y_scaled.norm() / y_dense.norm()).item()
        rel = ((y_scaled - y_dense).norm() / y_dense.norm()).item()
        print(f"{name}: unscaled ratio {raw_ratio:.4f} (1/s = {1 / activation_scale(moe):.4f}), "
              f"scaled ratio {ratio:.3f}, scaled rel. error {rel:.3f}")
        assert raw_ratio == pytest.approx(1 / activation_scale(moe), rel=0.3)  # unscaled: shrinks by ~s
        assert 0.9 < ratio < 1.3, (name, ratio)  # scaled: near dense, slightly above (top-T p > 1/N)
        assert rel < 0.3, (name, rel)


def test_weight_scale_matches_the_paper_values():
    assert weight_scale(MoEConfig.from_notation("E8G8T8", router_order="softmax_topk"), "squared_relu") == \
        pytest.approx(4.0)
    assert weight_scale(MoEConfig.from_notation("E8G1T1", router_order="softmax_topk"), "swiglu") == \
        pytest.approx(2.0)
    assert weight_scale(MoEConfig.from_notation("E8G1T2", router_order="softmax_topk"), "squared_relu") == \
        pytest.approx(4 ** (1 / 3))
    assert weight_scale(MoEConfig.from_notation("E8G8T8", router_order="topk_softmax"), "gelu") == \
        pytest.approx(8 ** 0.5)
    assert weight_scale(MoEConfig.from_notation("E8G1T2", router_order="topk_softmax"), "swiglu") == 1.0


@pytest.mark.parametrize(("moe", "match"), [
    (MoEConfig(num_experts=6, topk=3, granularity=3), "does not divide"),
    (MoEConfig(num_experts=8, topk=3, granularity=2), "not a multiple of granularity"),
    (MoEConfig(num_experts=6, topk=4, granularity=4), "num_experts N=6"),
])
def test_impossible_layouts_are_refused_before_any_work(moe, match):
    cfg = tiny_gpt()
    with pytest.raises(ValueError, match=match):
        check_moe_shape(cfg.ffn_hidden, moe)
    with pytest.raises(ValueError, match=match):
        upcycle_state_dict({}, cfg, moe)  # an empty dict proves nothing was read first


def test_a_state_dict_of_the_wrong_shape_names_the_key():
    cfg = tiny_gpt()
    sd = build_model(tiny_gpt(ffn_hidden=32)).state_dict()
    with pytest.raises(ValueError, match=r"layers\.0\.mlp\.fc1\.weight"):
        upcycle_state_dict(sd, cfg, MoEConfig.from_notation("E8G1T2"))


def test_an_already_moe_state_dict_is_refused():
    cfg = tiny_gpt()
    sd = build_model(cfg, MoEConfig.from_notation("E8G1T2")).state_dict()
    with pytest.raises(KeyError, match="dense"):
        upcycle_state_dict(sd, cfg, MoEConfig.from_notation("E8G1T2"))
