"""HF continued training of converted models is balanced the paper's way: router logits on, α rescaled."""

import json

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from upcycling.hf.convert import convert_checkpoint
from upcycling.hf.layouts import hf_aux_loss_coef
from upcycling.hf.tiny import make_tiny_dense
from upcycling.moe.router import switch_load_balancing_loss


def _pooled_hf_formula(router_logits, n, k):
    """transformers' pooled loss written out independently: N · Σ_e (count_e / rows) · mean prob_e."""
    logits = torch.cat(router_logits)  # [L·S, N]
    probs = logits.float().softmax(-1)
    counts = F.one_hot(probs.topk(k, dim=-1).indices, n).sum((0, 1)).float()
    return n * (counts / logits.shape[0] * probs.mean(0)).sum()


@pytest.mark.parametrize("router", ["topk_softmax", "softmax_topk"])
def test_one_hf_training_step_on_a_converted_folder_adds_the_papers_aux_loss(tmp_path, router):
    make_tiny_dense(tmp_path / "dense", "llama", tokenizer=False, num_hidden_layers=3)
    alpha, n, k = 1e-2, 8, 2
    convert_checkpoint(tmp_path / "dense", tmp_path / "moe", num_experts=n, topk=k, router_order=router,
                       aux_loss_coeff=alpha)
    cfg = json.loads((tmp_path / "moe" / "config.json").read_text())
    assert cfg["output_router_logits"] is True
    assert cfg["router_aux_loss_coef"] == pytest.approx(alpha * 3 / k)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "moe").train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, cfg["vocab_size"], (2, 24), generator=torch.Generator().manual_seed(0))
    out = model(tokens, labels=tokens)
    assert out.aux_loss is not None and len(out.router_logits) == 3
    torch.testing.assert_close(out.aux_loss, _pooled_hf_formula(out.router_logits, n, k))
    lm = F.cross_entropy(out.logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
    torch.testing.assert_close(out.loss, lm + cfg["router_aux_loss_coef"] * out.aux_loss)
    # the added term is the paper's α·L at balance; at this init it is within 10% of the per-layer sum
    per_layer = sum(switch_load_balancing_loss(g.float().softmax(-1), g.topk(k, dim=-1).indices, alpha)
                    for g in out.router_logits)
    assert abs(cfg["router_aux_loss_coef"] * out.aux_loss.item() / per_layer.item() - 1) < 0.1
    out.loss.backward()
    gate = next(p for name, p in model.named_parameters() if "layers.0." in name and "gate.weight" in name
                and "experts" not in name and "shared" not in name)
    assert gate.grad is not None and gate.grad.abs().sum() > 0
    opt.step()


def test_with_one_moe_layer_the_rescaled_pooled_loss_equals_the_papers_per_layer_loss_exactly():
    torch.manual_seed(3)
    n, k, alpha = 8, 2, 1e-2
    logits = torch.randn(50, n) * 2  # unbalanced on purpose
    hf = hf_aux_loss_coef(alpha, 1, k) * _pooled_hf_formula((logits,), n, k)
    ours = switch_load_balancing_loss(logits.softmax(-1), logits.topk(k, dim=-1).indices, alpha)
    torch.testing.assert_close(hf, ours)
