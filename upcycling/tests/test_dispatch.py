import pytest
import torch

from upcycling.config import MoEConfig
from upcycling.moe.dispatch import expert_capacity, grouped_mm, make_plan, permute, unpermute
from upcycling.moe.layer import MoELayer


def _layers(moe: MoEConfig, activation: str = "squared_relu", bias: bool = True):
    fast = MoELayer(16, 24, activation, bias, moe)
    ref = MoELayer(16, 24, activation, bias, moe, reference=True)
    with torch.no_grad():
        for p in fast.parameters():
            p.normal_(0, 0.3)
    ref.load_state_dict(fast.state_dict())
    return fast, ref


@pytest.mark.parametrize("impl", ["grouped_mm", "padded_bmm"])
@pytest.mark.parametrize("activation", ["squared_relu", "swiglu", "gelu"])
def test_grouped_path_equals_the_reference_loop_forward_and_backward(impl, activation):
    fast, ref = _layers(MoEConfig(num_experts=6, topk=2), activation)
    fast.experts.impl = impl
    x = torch.randn(2, 20, 16)
    xf, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    yf, _ = fast(xf)
    yr, _ = ref(xr)
    torch.testing.assert_close(yf, yr, atol=1e-5, rtol=1e-5)
    yf.sum().backward()
    yr.sum().backward()
    torch.testing.assert_close(xf.grad, xr.grad, atol=1e-5, rtol=1e-5)
    for (name, pf), pr in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(pf.grad, pr.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_dropless_layer_equals_a_per_token_loop_over_its_selected_experts():
    fast, _ = _layers(MoEConfig(num_experts=4, topk=2, router_order="topk_softmax"), bias=False)
    x = torch.randn(7, 16)
    y, _ = fast(x)
    r = fast.router(x)
    e = fast.experts
    for t in range(7):
        want = sum(w * (torch.relu(x[t] @ e.w1[i].T) ** 2) @ e.w2[i].T for w, i in zip(r.weights[t], r.indices[t]))
        torch.testing.assert_close(y[t], want, atol=1e-5, rtol=1e-5)


def test_experts_with_no_tokens_are_handled():
    indices = torch.tensor([[0, 2], [2, 0], [0, 2]])
    plan = make_plan(indices, torch.rand(3, 2), num_experts=5)
    assert plan.counts.tolist() == [3, 0, 3, 0, 0]
    x = torch.randn(6, 4)
    w = torch.randn(5, 3, 4)
    for impl in ("grouped_mm", "padded_bmm"):
        out = grouped_mm(x, w, plan.counts, impl)
        torch.testing.assert_close(out, torch.cat([x[:3] @ w[0].T, x[3:] @ w[2].T]))


def test_permute_then_unpermute_with_unit_weights_sums_each_token_topk_times():
    indices = torch.randint(0, 4, (9, 3))
    plan = make_plan(indices, torch.ones(9, 3), num_experts=4)
    x = torch.randn(9, 5)
    torch.testing.assert_close(unpermute(permute(x, plan), plan), 3 * x)


@pytest.mark.parametrize("policy", ["probs", "position"])
def test_capacity_drops_exactly_the_overflow_by_policy(policy):
    # 6 tokens, top-1, 2 experts, cf 0.5 -> capacity ceil(6/2*0.5) = 2 per expert
    indices = torch.tensor([[0], [0], [0], [0], [1], [1]])
    weights = torch.tensor([[0.1], [0.9], [0.5], [0.7], [0.3], [0.2]])
    assert expert_capacity(6, 1, 2, 0.5) == 2
    plan = make_plan(indices, weights, 2, capacity_factor=0.5, drop_policy=policy)
    assert plan.dropped == 2 and plan.counts.tolist() == [2, 2]
    kept0 = sorted(plan.token_ids[plan.expert_ids == 0].tolist())
    assert kept0 == ([1, 3] if policy == "probs" else [0, 1])


def test_capacity_layer_equals_reference_and_zeroes_dropped_assignments():
    moe = MoEConfig(num_experts=4, topk=2, capacity_factor=0.5, drop_policy="probs")
    fast, ref = _layers(moe)
    x = torch.randn(30, 16)
    yf, sf = fast(x)
    yr, _ = ref(x)
    torch.testing.assert_close(yf, yr, atol=1e-5, rtol=1e-5)
    assert sf.dropped > 0
    dropless, _ = _layers(MoEConfig(num_experts=4, topk=2))
    dropless.load_state_dict(fast.state_dict())
    assert not torch.allclose(dropless(x)[0], yf)


def test_a_large_capacity_factor_drops_nothing():
    moe = MoEConfig(num_experts=4, topk=2, capacity_factor=8.0)
    fast, _ = _layers(moe)
    dropless, _ = _layers(MoEConfig(num_experts=4, topk=2))
    dropless.load_state_dict(fast.state_dict())
    x = torch.randn(10, 16)
    y, s = fast(x)
    assert s.dropped == 0
    torch.testing.assert_close(y, dropless(x)[0])


def test_expert_load_statistics_are_fractions_that_sum_to_one():
    fast, _ = _layers(MoEConfig(num_experts=6, topk=2))
    _, stats = fast(torch.randn(40, 16))
    assert stats.load.shape == (6,)
    assert stats.load.sum().item() == pytest.approx(1.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_grouped_mm_matches_the_reference_loop():
    fast, ref = _layers(MoEConfig(num_experts=8, topk=2), "swiglu", bias=False)
    fast, ref = fast.cuda(), ref.cuda()
    x = torch.randn(512, 16, device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        yf, _ = fast(x.bfloat16())
        yr, _ = ref(x.bfloat16())
    torch.testing.assert_close(yf.float(), yr.float(), atol=3e-2, rtol=3e-2)
