"""`upcycle convert` on tiny random HF checkpoints: the output loads in transformers and starts as the dense model."""

import json

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

from upcycling.cli import main as upcycle_main
from upcycling.hf.check import compare_logits
from upcycling.hf.convert import convert_checkpoint
from upcycling.hf.safetensors_io import SafetensorsCheckpoint
from upcycling.hf.tiny import make_tiny_dense


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    make_tiny_dense(folder, "llama")
    return folder


def load_clean(folder):
    """Load with no custom code and insist that every tensor matched a parameter; the only parameters allowed
    to be missing are empty ones (Qwen2-MoE's width-0 shared expert, which has nothing to store)."""
    model, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    params = dict(model.named_parameters())
    assert all(params[k].numel() == 0 for k in info["missing_keys"]), info
    assert not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert no_empty_tensors(folder)
    return model.eval()


def no_empty_tensors(folder):
    """True when no tensor in the folder's safetensors has a zero-size dimension (serving engines reject them)."""
    ckpt = SafetensorsCheckpoint(folder)
    return all(0 not in ckpt.shape_and_dtype(key)[0] for key in ckpt.key_to_file)


def test_coarse_topk_softmax_llama_becomes_a_mixtral_with_the_dense_logits(llama_dir, tmp_path):
    out = tmp_path / "moe"
    report = convert_checkpoint(llama_dir, out, num_experts=4, topk=2, router_order="topk_softmax",
                                max_shard_size="100KB")
    assert report.layout == "mixtral" and len(report.shards) > 1
    assert (out / "model.safetensors.index.json").is_file()
    model = load_clean(out)
    assert type(model).__name__ == "MixtralForCausalLM" and model.config.num_local_experts == 4
    diff = compare_logits(llama_dir, out)
    assert diff["max_abs"] < 1e-4, diff
    assert AutoTokenizer.from_pretrained(out)("abc")["input_ids"] == AutoTokenizer.from_pretrained(llama_dir)(
        "abc")["input_ids"]


@pytest.mark.parametrize("layout", ["qwen2_moe", "mixtral"])
def test_granular_virtual_groups_with_exact_glu_scaling_equal_the_dense_logits(llama_dir, tmp_path, layout):
    out = tmp_path / "moe"
    report = convert_checkpoint(llama_dir, out, num_experts=8, topk=4, granularity=4, router_order="topk_softmax",
                                glu_scaling="exact", layout=layout)
    assert report.layout == layout and report.factors == {"gate_proj": 1.0, "up_proj": 2.0, "down_proj": 2.0}
    load_clean(out)
    diff = compare_logits(llama_dir, out)
    assert diff["max_abs"] < 1e-4, diff


def test_granular_with_the_papers_cube_root_scaling_is_close_but_not_exact_for_swiglu(llama_dir, tmp_path):
    """silu is not homogeneous, so a = s^(1/3) on gate, up and down only approximates the dense MLP."""
    out = tmp_path / "moe"
    convert_checkpoint(llama_dir, out, num_experts=8, topk=4, granularity=4, router_order="topk_softmax")
    diff = compare_logits(llama_dir, out)
    print(f"E2G4T4 topk-softmax, paper scaling: {diff}")
    assert 1e-5 < diff["rel"] < 0.05, diff
    assert diff["top1_agree"] > 0.9, diff


def test_softmax_then_topk_deviation_is_measured_and_scaling_reduces_it(llama_dir, tmp_path):
    rels = {}
    for scaling in (False, True):
        out = tmp_path / f"moe-{scaling}"
        report = convert_checkpoint(llama_dir, out, num_experts=8, topk=2, router_order="softmax_topk",
                                    weight_scaling=scaling)
        assert report.layout == "qwen2_moe"
        model = load_clean(out)
        assert model.config.norm_topk_prob is False and model.config.shared_expert_intermediate_size == 0
        rels[scaling] = compare_logits(llama_dir, out)["rel"]
    print(f"E8G1T2 softmax-topk relative logits deviation: unscaled {rels[False]:.4f}, scaled {rels[True]:.4f}")
    assert rels[True] < rels[False]


@pytest.mark.parametrize("router", ["topk_softmax", "softmax_topk"])
def test_qwen3_becomes_qwen3_moe_with_its_qk_norms_and_the_dense_logits(tmp_path, router):
    dense = tmp_path / "dense"
    make_tiny_dense(dense, "qwen3", tokenizer=False, head_dim=16, attention_bias=True)
    out = tmp_path / "moe"
    report = convert_checkpoint(dense, out, num_experts=8, topk=4, granularity=4, router_order=router,
                                glu_scaling="exact" if router == "topk_softmax" else "paper")
    assert report.layout == "qwen3_moe"
    model = load_clean(out)
    assert type(model).__name__ == "Qwen3MoeForCausalLM" and model.config.num_experts == 8
    assert model.config.norm_topk_prob is (router == "topk_softmax")
    diff = compare_logits(dense, out)
    if router == "topk_softmax":
        assert diff["max_abs"] < 1e-4, diff  # granular, exact scaling: the dense function
    else:
        assert diff["rel"] < 0.5 and diff["top1_agree"] > 0.5, diff  # approximate by design


def test_qwen3_and_the_other_families_are_refused_each_others_layouts(tmp_path):
    dense = tmp_path / "dense"
    make_tiny_dense(dense, "qwen3", tokenizer=False)
    with pytest.raises(ValueError, match="RMS-normalise q and k"):
        convert_checkpoint(dense, tmp_path / "a", num_experts=4, topk=2, layout="qwen2_moe")
    llama = tmp_path / "llama"
    make_tiny_dense(llama, "llama", tokenizer=False)
    with pytest.raises(ValueError, match="RMS-normalise q and k"):
        convert_checkpoint(llama, tmp_path / "b", num_experts=4, topk=2, layout="qwen3_moe")


@pytest.mark.parametrize(("family", "extra"), [
    ("mistral", dict(sliding_window=5)),
    ("qwen2", dict(use_sliding_window=True, sliding_window=5, max_window_layers=1)),
    ("llama", dict(tie_word_embeddings=True)),
])
def test_mistral_qwen2_and_tied_llama_sources_convert_to_the_dense_function(tmp_path, family, extra):
    dense = tmp_path / "dense"
    make_tiny_dense(dense, family, **extra)
    out = tmp_path / "moe"
    report = convert_checkpoint(dense, out, num_experts=4, topk=2, router_order="topk_softmax")
    assert report.layout == ("qwen2_moe" if family == "qwen2" else "mixtral")
    load_clean(out)
    diff = compare_logits(dense, out, seq_len=16)  # longer than the sliding window
    assert diff["max_abs"] < 1e-4, diff


def test_router_rows_tie_within_virtual_groups_and_expert_j_holds_shard_j_mod_g(llama_dir, tmp_path):
    out = tmp_path / "moe"
    convert_checkpoint(llama_dir, out, num_experts=8, topk=4, granularity=4, router_order="topk_softmax",
                       weight_scaling=False, max_shard_size="1MB")
    moe = SafetensorsCheckpoint(out)
    dense = SafetensorsCheckpoint(llama_dir)

    def get(ckpt, key):
        with safe_open(ckpt.root / ckpt.key_to_file[key], "pt") as f:
            return f.get_tensor(key)

    router = get(moe, "model.layers.1.mlp.gate.weight")  # [8, h]
    assert torch.equal(router[0], router[3]) and torch.equal(router[4], router[7])
    assert not torch.equal(router[0], router[4])
    down = get(dense, "model.layers.1.mlp.down_proj.weight")  # [h, 128]
    for j in range(8):
        s = j % 4
        torch.testing.assert_close(get(moe, f"model.layers.1.mlp.experts.{j}.down_proj.weight"),
                                   down[:, 32 * s:32 * (s + 1)], rtol=0, atol=0)


def test_the_console_script_converts_and_records_what_it_did(llama_dir, tmp_path, capsys):
    out = tmp_path / "moe"
    rc = upcycle_main(["convert", "--dense", str(llama_dir), "--out", str(out), "--num-experts", "4", "--topk",
                       "2", "--router", "topk-softmax", "--aux-loss-coeff", "0.001", "--max-shard-size", "200KB",
                       "--check"])
    printed = capsys.readouterr().out
    assert rc == 0 and "mixtral layout" in printed and "top-1 agreement 100.0%" in printed
    record = json.loads((out / "upcycling.json").read_text())
    assert record["name"] == "E4G1T2" and record["router_order"] == "topk_softmax"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["router_aux_loss_coef"] == pytest.approx(0.001 * 2 / 2) and cfg["output_router_logits"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_a_bf16_checkpoint_stays_bf16_and_its_scaled_experts_are_rounded_once(tmp_path):
    dense = tmp_path / "dense"
    make_tiny_dense(dense, "llama", tokenizer=False, dtype="bfloat16").to(torch.bfloat16).save_pretrained(dense)
    out = tmp_path / "moe"
    convert_checkpoint(dense, out, num_experts=4, topk=2, granularity=2, router_order="topk_softmax",
                       glu_scaling="exact")
    tensors = dict(SafetensorsCheckpoint(out).iter_tensors())
    assert {t.dtype for t in tensors.values()} == {torch.bfloat16}
    up = dict(SafetensorsCheckpoint(dense).iter_tensors())["model.layers.0.mlp.up_proj.weight"]
    expected = (up[64:].float() * 2 ** 0.5).to(torch.bfloat16)  # shard 1 of 2, a = sqrt(G)
    assert torch.equal(tensors["model.layers.0.mlp.experts.3.up_proj.weight"], expected)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.dtype == torch.bfloat16
