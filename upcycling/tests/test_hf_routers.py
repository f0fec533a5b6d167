"""bf16 routers break virtual-group ties; fp32_routers restores whole-group selection."""

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from upcycling.hf.convert import convert_checkpoint
from upcycling.hf.routers import fp32_routers
from upcycling.hf.tiny import make_tiny_dense


def _broken_groups(model, n, k, g):
    """Routing decisions (token × layer) whose top-k is not made of whole virtual groups."""
    tokens = torch.randint(0, 96, (32, 64), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(tokens, output_router_logits=True)
    broken = total = 0
    for logits in out.router_logits:
        idx = torch.softmax(logits, dim=-1, dtype=torch.float).topk(k, dim=-1).indices
        groups = F.one_hot(idx // g, n // g).sum(1)
        broken += ((groups % g) != 0).any(-1).sum().item()
        total += idx.shape[0]
    return broken, total


def test_bf16_routers_split_virtual_groups_and_fp32_routers_do_not(tmp_path):
    make_tiny_dense(tmp_path / "dense", "llama", tokenizer=False)
    convert_checkpoint(tmp_path / "dense", tmp_path / "moe", num_experts=64, topk=8, granularity=8)
    fp32 = AutoModelForCausalLM.from_pretrained(tmp_path / "moe", dtype=torch.float32).eval()
    assert _broken_groups(fp32, 64, 8, 8)[0] == 0
    bf16 = AutoModelForCausalLM.from_pretrained(tmp_path / "moe", dtype=torch.bfloat16).eval()
    broken, total = _broken_groups(bf16, 64, 8, 8)
    print(f"bf16 routers: {broken}/{total} = {broken / total:.2%} of routing decisions split a virtual group")
    assert broken > 0
    assert fp32_routers(bf16) == 2
    assert _broken_groups(bf16, 64, 8, 8)[0] == 0
    tokens = torch.randint(0, 96, (2, 16))
    with torch.no_grad():
        assert bf16(tokens).logits.dtype == torch.bfloat16  # the rest of the model stays bf16
