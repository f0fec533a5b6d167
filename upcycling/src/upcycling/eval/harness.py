"""An lm-evaluation-harness model for our checkpoints: ``lm_eval --model upcycling --model_args pretrained=CKPT``.

HF folders written by ``upcycle convert`` / ``save_hf`` run under the harness's own ``hf`` model as they are;
this adapter is for our ``.pt`` checkpoints (dense or MoE, from train.py or ``upcycle upcycle``) with the
byte tokenizer or the local HF tokenizer they were trained with (it also takes an HF folder, through
``HFScorer``). It answers the harness's two log-likelihood request types, which is what multiple-choice
tasks (MMLU, ARC, HellaSwag, ...) and perplexity tasks use; generation tasks are refused in one line, since
the paper's evaluation (Table 1, MMLU) scores choices.

Tokenisation follows the harness's ``hf`` model: context + continuation are encoded together and the
context's tokens split off, so a tokenizer that merges across the boundary scores the same string; an empty
context is conditioned on a newline (our byte-level models have no BOS token). Inputs longer than the model's
``max_seq_len`` keep their rightmost tokens.

Import this module (or run ``python -m upcycling.eval.harness``) to register the model name; the harness
itself is optional (``pip install lm_eval``), nothing else in ``upcycling`` imports it.
"""

from __future__ import annotations

import sys

import torch
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

from upcycling.eval.mmlu import Scorer
from upcycling.eval.scorers import load_scorer


def score_continuation(scorer: Scorer, context: list[int], continuation: list[int]) -> tuple[float, bool]:
    """(Σ log p(continuation | context), whether greedy decoding gives it), keeping the last max_len tokens."""
    if not continuation:
        return 0.0, True
    seq = (context + continuation)[-(scorer.max_len + 1):]
    n = min(len(continuation), len(seq) - 1)  # continuation tokens that still have a predicting position
    lp = scorer.logprobs(torch.tensor([seq[:-1]]))[0, -n:]  # [n, V]: the positions predicting them
    target = torch.tensor(seq[-n:])
    picked = lp.gather(-1, target[:, None])[:, 0]
    return float(picked.sum()), bool((lp.argmax(-1) == target).all())


@register_model("upcycling")
class UpcyclingLM(LM):
    """The harness's view of an ``upcycling.eval.scorers`` scorer."""

    def __init__(self, pretrained: str, tokenizer: str = "byte", device: str = "cpu", scorer: Scorer | None = None,
                 **_ignored) -> None:
        super().__init__()
        self.scorer = scorer if scorer is not None else load_scorer(pretrained, tokenizer, device)
        self.prefix = self.scorer.encode("\n")

    def _pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        spaces = len(context) - len(context.rstrip())  # trailing spaces belong to the continuation (as hf)
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        if not context:
            return self.prefix, self.scorer.encode(continuation)
        whole, ctx = self.scorer.encode(context + continuation), self.scorer.encode(context)
        return ctx, whole[len(ctx):]

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        return [score_continuation(self.scorer, *self._pair(*r.args)) for r in requests]

    def loglikelihood_rolling(self, requests) -> list[float]:
        out = []
        for r in requests:
            tokens = self.scorer.encode(r.args[0])
            windows = get_rolling_token_windows(tokens, self.prefix[-1], self.scorer.max_len, 1)
            out.append(sum(score_continuation(self.scorer, *make_disjoint_window(w))[0] for w in windows))
        return out

    def generate_until(self, requests) -> list[str]:
        raise NotImplementedError("the upcycling harness model scores log-likelihoods only (multiple-choice and "
                                  "perplexity tasks such as mmlu); export to HF (`upcycle convert`) and use "
                                  "`lm_eval --model hf` for generation tasks")


if __name__ == "__main__":  # `python -m upcycling.eval.harness --model upcycling ...` = lm_eval with ours registered
    from lm_eval.__main__ import cli_evaluate

    sys.exit(cli_evaluate())
