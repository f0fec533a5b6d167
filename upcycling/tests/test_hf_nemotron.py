"""Nemotron in and out: partial RoPE, LayerNorm1P and squared-ReLU in our GPT match HF NemotronForCausalLM."""

import pytest
import torch
import transformers as tf

from upcycling.config import GPTConfig, MoEConfig
from upcycling.hf.ours import load_hf, save_hf
from upcycling.model import build_model
from upcycling.upcycle import upcycle_state_dict

TINY = dict(vocab_size=80, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, max_position_embeddings=64)


def _perturbed(model):
    with torch.no_grad():  # random norms and biases, so a mapping that drops or mis-offsets them fails
        for name, p in model.named_parameters():
            if name.endswith(".bias") or "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("bias", [False, True])
def test_an_hf_nemotron_loads_into_our_gpt_with_the_same_logits(tmp_path, bias):
    hf_cfg = tf.NemotronConfig(**TINY, attention_bias=bias, mlp_bias=bias,
                               rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                "partial_rotary_factor": 0.5})
    hf = _perturbed(tf.NemotronForCausalLM(hf_cfg))
    hf.save_pretrained(tmp_path / "nemo", safe_serialization=True)
    sd, cfg, moe = load_hf(tmp_path / "nemo")
    assert moe is None and cfg.norm == "layernorm1p" and cfg.activation == "squared_relu"
    assert cfg.rotary_percent == 0.5 and cfg.rotary_dim == 8
    ours = build_model(cfg).eval()
    ours.load_state_dict(sd, strict=True)
    tokens = torch.randint(0, 80, (2, 24))
    with torch.no_grad():
        torch.testing.assert_close(ours(tokens).logits, hf(tokens).logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize(("norm", "activation", "rotary"), [("layernorm1p", "squared_relu", 0.5),
                                                             ("layernorm", "squared_relu", 1.0),
                                                             ("layernorm", "gelu", 0.25)])
def test_our_dense_layernorm_models_export_as_nemotron_and_transformers_gives_our_logits(tmp_path, norm, activation,
                                                                                         rotary):
    cfg = GPTConfig(vocab_size=80, n_layers=2, hidden=64, n_heads=4, n_kv_heads=2, ffn_hidden=128,
                    activation=activation, norm=norm, rotary_percent=rotary, max_seq_len=64)
    ours = _perturbed(build_model(cfg))
    save_hf(tmp_path / "hf", ours.state_dict(), cfg, None)
    hf, info = tf.AutoModelForCausalLM.from_pretrained(tmp_path / "hf", output_loading_info=True)
    assert type(hf).__name__ == "NemotronForCausalLM"
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    tokens = torch.randint(0, 80, (2, 24))
    with torch.no_grad():
        torch.testing.assert_close(hf.eval()(tokens).logits, ours(tokens).logits, atol=1e-4, rtol=0)
    sd, back, _ = load_hf(tmp_path / "hf")  # and back: a LayerNorm1P model with the same function
    again = build_model(back).eval()
    again.load_state_dict(sd, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(again(tokens).logits, ours(tokens).logits, atol=1e-5, rtol=0)


def test_a_nemotron_source_upcycles_to_an_moe_with_the_dense_logits(tmp_path):
    hf = _perturbed(tf.NemotronForCausalLM(tf.NemotronConfig(**TINY)))
    hf.save_pretrained(tmp_path / "nemo", safe_serialization=True)
    sd, cfg, _ = load_hf(tmp_path / "nemo")
    moe = MoEConfig.from_notation("E4G2T2", router_order="topk_softmax")
    model = build_model(cfg, moe).eval()
    model.load_state_dict(upcycle_state_dict(sd, cfg, moe), strict=True)
    tokens = torch.randint(0, 80, (2, 24))
    with torch.no_grad():  # squared-ReLU is homogeneous: granular + scaling is exact
        torch.testing.assert_close(model(tokens).logits, hf(tokens).logits, atol=1e-4, rtol=0)


def test_partial_rope_leaves_the_unrotated_dimensions_alone():
    from upcycling.model import Rotary

    rot = Rotary(8, 16, 10000.0)
    x = torch.randn(1, 2, 16, 16)
    y = rot(x)
    assert torch.equal(y[..., 8:], x[..., 8:]) and not torch.allclose(y[..., :8], x[..., :8])
    with pytest.raises(ValueError, match="rotary_percent"):
        GPTConfig(hidden=64, n_heads=4, rotary_percent=0.1)  # 1.6 dims
