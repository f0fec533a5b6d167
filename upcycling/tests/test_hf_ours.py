"""Our GPT ↔ Hugging Face: exact round trips, and equal logits from our model and transformers on one weight set."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from upcycling.config import GPTConfig, MoEConfig
from upcycling.hf.convert import convert_checkpoint
from upcycling.hf.ours import configs_from_hf, hf_config, load_hf, ours_to_hf, save_hf
from upcycling.hf.safetensors_io import SafetensorsCheckpoint
from upcycling.model import build_model
from upcycling.upcycle import upcycle_state_dict


def tiny(**overrides) -> GPTConfig:
    base = dict(vocab_size=80, n_layers=2, hidden=64, n_heads=4, n_kv_heads=2, ffn_hidden=128, activation="swiglu",
                norm="rmsnorm", max_seq_len=32, rope_theta=500.0)
    return GPTConfig(**{**base, **overrides})


def randomised(model):
    """Random norm gains and biases too, so a mapping that drops them cannot pass."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith(("b1", "b2", ".bias")):
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


CASES = [
    pytest.param(dict(), None, id="dense"),
    pytest.param(dict(bias=True, tied_embeddings=True), None, id="dense-bias-tied"),
    pytest.param(dict(), MoEConfig(num_experts=4, topk=2, router_order="topk_softmax"), id="mixtral"),
    pytest.param(dict(), MoEConfig(num_experts=8, topk=4, granularity=2, router_order="softmax_topk"),
                 id="qwen2moe-granular"),
    pytest.param(dict(tied_embeddings=True), MoEConfig(num_experts=4, topk=2, granularity=2,
                                                       router_order="topk_softmax"), id="mixtral-granular-tied"),
]


@pytest.mark.parametrize(("gpt", "moe"), CASES)
def test_our_model_round_trips_through_the_hf_layout_and_matches_transformers_logits(tmp_path, gpt, moe):
    cfg = tiny(**gpt)
    ours = randomised(build_model(cfg, moe))
    folder = save_hf(tmp_path / "hf", ours.state_dict(), cfg, moe, max_shard_size="100KB")
    sd, cfg2, moe2 = load_hf(folder)
    assert cfg2 == cfg and moe2 == moe
    reference = ours.state_dict()
    assert sd.keys() == reference.keys()
    for k in sd:
        assert torch.equal(sd[k], reference[k]), k

    hf, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    params = dict(hf.named_parameters())  # only Qwen2-MoE's empty (width-0) shared expert may be missing
    assert all(params[k].numel() == 0 for k in info["missing_keys"]) and not info["unexpected_keys"], info
    assert all(t.numel() > 0 for _, t in SafetensorsCheckpoint(folder).iter_tensors())
    tokens = torch.randint(0, cfg.vocab_size, (2, 24))
    with torch.no_grad():
        torch.testing.assert_close(hf.eval()(tokens).logits, ours(tokens).logits, atol=1e-4, rtol=0)


def test_hf_configs_without_our_metadata_give_back_our_configs():
    cfg = tiny()
    moe = MoEConfig(num_experts=8, topk=4, granularity=2, router_order="softmax_topk", aux_loss_coeff=0.001)
    assert configs_from_hf(hf_config(cfg, moe)) == (cfg, moe)  # Qwen2-MoE keeps both widths, so G is derived
    mixtral = MoEConfig(num_experts=4, topk=2, router_order="topk_softmax")
    assert configs_from_hf(hf_config(cfg, mixtral)) == (cfg, mixtral)


@pytest.mark.parametrize(("granularity", "order", "glu_scaling"), [
    (4, "softmax_topk", "paper"),  # s = 8: a = 2
    (2, "softmax_topk", "exact"),  # s = 4·4/4 = 4: up and down ×2, gate ×1
    (2, "topk_softmax", "paper"),  # s = 2: a = 2^(1/3), not a power of two, so rounding must agree too
])
def test_upcycling_ours_then_exporting_equals_exporting_then_upcycle_convert(tmp_path, granularity, order,
                                                                               glu_scaling):
    """Both paths share the math (upcycling.upcycle): same seed → identical tensors, router included."""
    cfg = tiny()
    moe = MoEConfig(num_experts=8, topk=4, granularity=granularity, router_order=order)
    dense = randomised(build_model(cfg))
    save_hf(tmp_path / "dense", dense.state_dict(), cfg, None)
    convert_checkpoint(tmp_path / "dense", tmp_path / "via_hf", num_experts=8, topk=4, granularity=granularity,
                       router_order=order, glu_scaling=glu_scaling, seed=7,
                       layout="mixtral" if order == "topk_softmax" else "qwen2_moe")  # the layout ours_to_hf picks
    moe_sd = upcycle_state_dict(dense.state_dict(), cfg, moe, glu_scaling=glu_scaling,
                                generator=torch.Generator().manual_seed(7))
    expected = ours_to_hf(moe_sd, cfg, moe)
    got = dict(SafetensorsCheckpoint(tmp_path / "via_hf").iter_tensors())
    assert got.keys() == expected.keys()
    for k in got:
        assert torch.equal(got[k], expected[k]), k


@pytest.mark.parametrize(("gpt", "moe", "match"), [
    (dict(activation="squared_relu"), None, "activation='squared_relu'"),
    (dict(norm="layernorm"), None, "norm='layernorm'"),
    (dict(bias=True), MoEConfig(num_experts=4, topk=2), "experts have no biases"),
])
def test_models_without_an_hf_twin_are_refused(tmp_path, gpt, moe, match):
    cfg = tiny(**gpt)
    with pytest.raises(ValueError, match=match):
        save_hf(tmp_path / "hf", build_model(cfg, moe).state_dict(), cfg, moe)
    assert not (tmp_path / "hf").exists()
