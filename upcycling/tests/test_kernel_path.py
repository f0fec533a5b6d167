"""The GPU kernel path, checked on CPU: which matmul the experts run under autocast, and no host syncs."""

import pytest
import torch

from upcycling.config import GPTConfig, MoEConfig
from upcycling.loss import total_loss
from upcycling.model import build_model
from upcycling.moe import dispatch
from upcycling.moe.layer import MoELayer


def _spy(monkeypatch):
    """Record the input dtype of every grouped_mm and padded-bmm call."""
    calls = []
    real_grouped, real_bmm = torch._grouped_mm, dispatch._padded_bmm

    def grouped(x, w, offs=None):
        calls.append(("grouped_mm", x.dtype, w.dtype))
        return real_grouped(x, w, offs=offs)

    def bmm(x, w, counts):
        calls.append(("padded_bmm", x.dtype, w.dtype))
        return real_bmm(x, w, counts)

    monkeypatch.setattr(torch, "_grouped_mm", grouped)
    monkeypatch.setattr(dispatch, "_padded_bmm", bmm)
    return calls


def _train_step_under_bf16_autocast():
    cfg = GPTConfig(vocab_size=64, n_layers=2, hidden=32, n_heads=4, ffn_hidden=64, activation="swiglu",
                    max_seq_len=16)
    model = build_model(cfg, MoEConfig(num_experts=4, topk=2))
    tokens = torch.randint(0, 64, (2, 16))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(tokens)
        loss, _ = total_loss(out, torch.randint(0, 64, (2, 16)))
    loss.backward()
    return model


@pytest.mark.parametrize("available", [True, False])
def test_a_bf16_autocast_training_step_runs_both_expert_matmuls_through_the_grouped_kernel_when_available(
        monkeypatch, available):
    monkeypatch.setattr(dispatch, "grouped_mm_preferred", lambda device: available)
    calls = _spy(monkeypatch)
    model = _train_step_under_bf16_autocast()
    forward = calls[:4]  # 2 layers x (fc1, fc2); the backward of padded bmm calls nothing of ours
    want = "grouped_mm" if available else "padded_bmm"
    assert [c[0] for c in forward] == [want] * 4
    assert all(c[1] == torch.bfloat16 and c[2] == torch.bfloat16 for c in forward), forward
    for name, p in model.named_parameters():  # fp32 master weights with fp32 gradients
        assert p.dtype == torch.float32 and p.grad is not None and p.grad.dtype == torch.float32, name


def test_without_autocast_fp32_inputs_take_the_bmm_fallback_even_where_the_kernel_is_preferred(monkeypatch):
    monkeypatch.setattr(dispatch, "grouped_mm_preferred", lambda device: True)
    calls = _spy(monkeypatch)
    layer = MoELayer(16, 24, "swiglu", False, MoEConfig(num_experts=4, topk=2))
    layer(torch.randn(10, 16))
    assert [c[0] for c in calls] == ["padded_bmm", "padded_bmm"]


def test_misaligned_widths_fall_back_to_bmm_under_autocast(monkeypatch):
    monkeypatch.setattr(dispatch, "grouped_mm_preferred", lambda device: True)
    calls = _spy(monkeypatch)
    layer = MoELayer(12, 20, "squared_relu", False, MoEConfig(num_experts=4, topk=2))  # 12 % 8 != 0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        layer(torch.randn(10, 12))
    assert [c[0] for c in calls] == ["padded_bmm", "padded_bmm"]


@pytest.mark.parametrize("capacity", [None, 1.0])
def test_the_dropless_moe_forward_and_backward_run_on_the_meta_device_so_they_need_no_host_sync(capacity):
    # meta tensors have no data: any op whose output shape depends on values (bincount, .item(), int(),
    # boolean masks) raises, so a forward that runs here has no device-to-host synchronisation
    moe = MoEConfig(num_experts=8, topk=2, capacity_factor=capacity)
    layer = MoELayer(32, 64, "swiglu", False, moe).to("meta", torch.bfloat16)
    layer.experts.impl = "grouped_mm"
    x = torch.randn(4, 16, 32, device="meta", dtype=torch.bfloat16, requires_grad=True)
    if capacity is not None:
        with pytest.raises((NotImplementedError, RuntimeError)):
            layer(x)
        return
    y, stats = layer(x)
    (y.sum() + stats.aux_loss).backward()
    assert y.shape == x.shape and x.grad.shape == x.shape


def test_combine_and_its_backward_are_bit_reproducible_and_keep_the_rows_dtype():
    layer = MoELayer(32, 64, "squared_relu", False, MoEConfig(num_experts=8, topk=2))
    x = torch.randn(64, 32)
    results = []
    for _ in range(2):
        xr = x.clone().requires_grad_()
        y, _ = layer(xr)
        y.square().sum().backward()
        results.append((y.detach(), xr.grad))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
    rows = torch.randn(10, 8, dtype=torch.bfloat16)
    plan = dispatch.make_plan(torch.randint(0, 4, (5, 2)), torch.rand(5, 2), 4)
    out = dispatch.unpermute(rows, plan)
    assert out.dtype == torch.bfloat16
    ref = torch.zeros(5, 8).index_add_(0, plan.token_ids, rows.float() * plan.weights[:, None])
    torch.testing.assert_close(out.float(), ref, atol=2e-2, rtol=2e-2)


def test_bf16_grouped_kernel_under_autocast_matches_fp32_within_bf16_rounding(monkeypatch):
    monkeypatch.setattr(dispatch, "grouped_mm_preferred", lambda device: True)
    layer = MoELayer(32, 64, "swiglu", False, MoEConfig(num_experts=4, topk=2))
    x = torch.randn(40, 32)
    ref, _ = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, _ = layer(x)
    assert y.dtype == torch.bfloat16
    assert ((y.float() - ref).norm() / ref.norm()).item() < 2e-2


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_the_dropless_forward_under_bf16_autocast_never_synchronises_with_the_host():
    layer = MoELayer(64, 128, "swiglu", False, MoEConfig(num_experts=8, topk=2)).cuda()
    layer.experts.impl = "grouped_mm"
    x = torch.randn(512, 64, device="cuda")
    layer(x)  # warm-up (lazy CUDA init, cuBLAS handles)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            y, stats = layer(x)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert y.dtype == torch.bfloat16 and stats.dropped == 0
