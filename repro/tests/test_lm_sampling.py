"""Nucleus and top-k filtering as Megatron/HF define them; greedy is argmax."""

from __future__ import annotations

import math

import torch

from ninerepro.lm import Generation, Sampling, cut_at_stop
from ninerepro.lm.sampling import filter_logits, next_tokens, row_generators


def test_top_p_keeps_the_smallest_set_reaching_the_mass_and_always_the_best_token():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = filter_logits(probs.log(), Sampling(max_new_tokens=1, top_p=0.7)).isfinite()
    assert kept.tolist() == [[True, True, False, False]]  # 0.5 < 0.7, 0.5 + 0.3 reaches it
    tiny = filter_logits(probs.log(), Sampling(max_new_tokens=1, top_p=0.1)).isfinite()
    assert tiny.tolist() == [[True, False, False, False]]


def test_top_k_zero_is_off_and_top_k_two_keeps_two():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    assert filter_logits(logits, Sampling(max_new_tokens=1, top_k=0)).isfinite().all()
    kept = filter_logits(logits, Sampling(max_new_tokens=1, top_k=2)).isfinite()
    assert kept.tolist() == [[False, True, True, False]]


def test_greedy_is_argmax_and_sampling_follows_its_generator():
    logits = torch.randn(3, 50)
    assert next_tokens(logits, Sampling(max_new_tokens=1, greedy=True), None).tolist() == logits.argmax(-1).tolist()
    s = Sampling(max_new_tokens=1)
    a = next_tokens(logits, s, row_generators([5, 6, 7]))
    b = next_tokens(logits, s, row_generators([5, 6, 7]))
    assert a.tolist() == b.tolist()


def test_prefix_logprob_sums_the_tokens_covering_the_kept_text():
    g = Generation("Paris\nmore", ["Par", "is", "\n", "more"], [-1.0, -0.5, -0.25, -2.0])
    assert g.prefix_logprob(5) == (-1.5, 2)
    assert g.prefix_logprob(100) == (-3.75, 4)
    assert math.isclose(g.mean_logprob, -3.75 / 4)


def test_cut_at_stop_uses_the_earliest_stop_string():
    assert cut_at_stop("ab\nQ: cd", ("Q:", "\n")) == ("ab", True)
    assert cut_at_stop("abc", ("x",)) == ("abc", False)
