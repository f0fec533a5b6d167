import pytest
import torch

from upcycling.moe.router import Router, route, switch_load_balancing_loss, z_loss


def test_topk_then_softmax_weights_sum_to_one():
    r = route(torch.randn(10, 8), topk=2, order="topk_softmax")
    torch.testing.assert_close(r.weights.sum(-1), torch.ones(10))


def test_softmax_then_topk_keeps_unrenormalised_probabilities():
    logits = torch.randn(10, 8)
    r = route(logits, topk=2, order="softmax_topk")
    full = torch.softmax(logits, -1)
    torch.testing.assert_close(r.weights, full.gather(1, r.indices))
    assert bool((r.weights.sum(-1) < 1).all())


def test_both_orders_select_the_same_experts():
    logits = torch.randn(50, 16)
    a, b = route(logits, 4, "softmax_topk"), route(logits, 4, "topk_softmax")
    assert torch.equal(a.indices, b.indices)


def test_topk_then_softmax_with_top1_gives_the_router_no_gradient():
    router = Router(hidden=8, num_experts=4, topk=1, order="topk_softmax")
    x = torch.randn(6, 8)
    router(x).weights.sum().backward()
    assert float(router.weight.grad.abs().max()) == 0.0


def test_aux_loss_equals_alpha_for_perfectly_balanced_routing():
    n, s = 4, 8
    probs = torch.full((s, n), 1.0 / n)
    indices = torch.arange(s * 2).remainder(n).view(s, 2)
    assert switch_load_balancing_loss(probs, indices, coeff=1e-2).item() == pytest.approx(1e-2)


def test_aux_loss_matches_megatron_closed_form():
    s, n, t, alpha = 12, 6, 2, 0.01
    r = route(torch.randn(s, n), t, "softmax_topk")
    counts = torch.bincount(r.indices.flatten(), minlength=n).float()
    expected = alpha * n / (t * s * s) * torch.sum(r.probs.sum(0) * counts)
    torch.testing.assert_close(switch_load_balancing_loss(r.probs, r.indices, alpha), expected)


def test_aux_loss_is_larger_when_everything_goes_to_one_expert():
    s, n = 16, 4
    skewed = torch.zeros(s, n)
    skewed[:, 0] = 10.0
    r = route(skewed, 1, "softmax_topk")
    assert switch_load_balancing_loss(r.probs, r.indices, 1.0).item() > 3.5


def test_z_loss_is_mean_squared_logsumexp():
    logits = torch.randn(5, 3)
    torch.testing.assert_close(z_loss(logits, 1e-3), 1e-3 * torch.logsumexp(logits, -1).pow(2).mean())


def test_router_computes_in_fp32_under_bf16_autocast():
    router = Router(8, 4, 2, "softmax_topk")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        r = router(torch.randn(3, 8).bfloat16())
    assert r.logits.dtype == torch.float32 and r.weights.dtype == torch.float32


def test_unknown_router_order_is_refused():
    with pytest.raises(ValueError, match="softmax_topk or topk_softmax"):
        Router(8, 4, 2, "sigmoid")
