import pytest
import torch

from upcycling.config import GPTConfig, MoEConfig
from upcycling.model import build_model


def tiny_gpt(**overrides) -> GPTConfig:
    base = dict(vocab_size=64, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, max_seq_len=32)
    return GPTConfig(**{**base, **overrides})


@pytest.mark.parametrize("gpt", [
    dict(), dict(activation="swiglu", n_kv_heads=2), dict(activation="gelu", norm="layernorm", bias=True),
    dict(tied_embeddings=True, dropout=0.1),
])
@pytest.mark.parametrize("moe", [None, "E8G1T2", "E4G4T4"])
def test_forward_gives_logits_of_vocab_size_and_one_stats_entry_per_moe_layer(gpt, moe):
    cfg = tiny_gpt(**gpt)
    model = build_model(cfg, None if moe is None else MoEConfig.from_notation(moe))
    out = model(torch.randint(0, 64, (3, 10)))
    assert out.logits.shape == (3, 10, 64)
    assert len(out.moe) == (0 if moe is None else 2)


def test_dense_and_moe_models_share_every_key_but_the_mlp():
    cfg = tiny_gpt()
    dense = set(build_model(cfg).state_dict())
    moe = set(build_model(cfg, MoEConfig.from_notation("E8G1T2")).state_dict())
    assert {k for k in dense if ".mlp." not in k} == {k for k in moe if ".mlp." not in k}
    assert "layers.0.mlp.router.weight" in moe and "layers.0.mlp.experts.w1" in moe


def test_the_model_is_causal():
    model = build_model(tiny_gpt(), MoEConfig.from_notation("E4G1T2")).eval()
    x = torch.randint(0, 64, (1, 12))
    y = x.clone()
    y[0, 8:] = (y[0, 8:] + 1) % 64
    torch.testing.assert_close(model(x).logits[:, :8], model(y).logits[:, :8])


def test_tied_embeddings_share_one_tensor():
    model = build_model(tiny_gpt(tied_embeddings=True))
    assert model.lm_head is None and "lm_head.weight" not in model.state_dict()


def test_grouped_query_attention_equals_explicitly_repeated_heads():
    torch.manual_seed(0)
    gqa = build_model(tiny_gpt(n_kv_heads=2)).eval()
    mha = build_model(tiny_gpt()).eval()
    sd = gqa.state_dict()
    for i in range(2):
        for name in ("k", "v"):
            w = sd[f"layers.{i}.attn.{name}.weight"].view(2, 8, 32)  # [kv heads, d, h]
            sd[f"layers.{i}.attn.{name}.weight"] = w.repeat_interleave(2, dim=0).reshape(32, 32)
    mha.load_state_dict(sd)
    x = torch.randint(0, 64, (2, 9))
    torch.testing.assert_close(gqa(x).logits, mha(x).logits, atol=1e-5, rtol=1e-5)


def test_a_sequence_longer_than_max_seq_len_is_refused():
    with pytest.raises(ValueError, match="max_seq_len"):
        build_model(tiny_gpt(max_seq_len=8))(torch.zeros(1, 9, dtype=torch.long))


def test_bf16_autocast_runs_the_moe_model_on_cpu():
    model = build_model(tiny_gpt(), MoEConfig.from_notation("E4G2T2"))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randint(0, 64, (2, 8)))
    out.logits.float().mean().backward()
    assert model.layers[0].mlp.experts.w1.grad is not None
