"""Flowtron's training objective (official ``FlowtronLoss``): NLL of z, the gate BCE and the attention CTC loss.

* NLL per valid mel value: [sum z^2 / (2 sigma^2) - sum over flows of sum log s] / (n_valid_frames * n_mel) with
  the standard normal prior, or minus the log-density of a Gaussian mixture (``n_components > 1``). Like the
  official code it leaves out the constant log(2 pi)/2, so the numbers compare with its logs.
* Gate: BCE with logits against 1 from the last real frame on, masked to valid frames, / n_valid_frames.
* Attention CTC (from the RAD-TTS alignment work): each flow's attention log-probabilities, with a blank column
  of ``blank_logprob`` prepended, are scored with CTC against the token sequence 1..N; mean over the batch and over
  flows. It rewards alignments that visit every token once, in order; reversed flows' rows are put back into
  time order first. The official loop runs item by item; here the batch is one ``ctc_loss`` call with padded
  tokens masked out of the softmax, which is the same sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from flowtron.ar_step import reverse_valid
from flowtron.model import FlowtronOutput
from ninerepro.tts.layers import length_mask


@dataclass
class FlowtronLosses:
    nll: Tensor
    gate: Tensor
    ctc: Tensor


def nll_loss(out: FlowtronOutput, out_lens: Tensor, sigma: float = 1.0) -> Tensor:
    z = out.z.transpose(1, 2).float()  # [B, T, n_mel]
    mask = length_mask(out_lens.to(z.device), z.shape[1])[..., None].to(z.dtype)  # [B, T, 1]
    log_s_total = sum((log_s.float() * mask).sum() for log_s in out.log_s)
    if out.mean is not None:
        zz = z[..., None]  # [B, T, n_mel, 1]
        mean, log_var = out.mean[:, None].float(), out.log_var[:, None].float()  # [1|B, 1, n_mel, K]
        prob = out.prob[:, None, None, :].float()  # [B, 1, 1, K]
        logits = -(zz - mean) ** 2 / (2 * torch.exp(log_var))
        top = logits.max(dim=3, keepdim=True).values
        mixed = top + torch.log((prob * torch.exp(logits - top) / torch.sqrt(torch.exp(log_var))).sum(3, keepdim=True))
        nll = -(mask[..., None] * mixed).sum()
    else:
        nll = ((z * mask) ** 2).sum() / (2 * sigma * sigma)
    return (nll - log_s_total) / (mask.sum() * z.shape[2])


def gate_loss(gate_logits: Tensor, gate_target: Tensor, out_lens: Tensor) -> Tensor:
    mask = length_mask(out_lens.to(gate_target.device), gate_target.shape[1]).to(torch.float32)
    logits = gate_logits[..., 0].float() * mask
    bce = F.binary_cross_entropy_with_logits(logits, gate_target.float(), reduction="none")
    return (bce * mask).sum() / mask.sum()


def attention_ctc_loss(logprob: Tensor, in_lens: Tensor, out_lens: Tensor, blank_logprob: float = -8.0) -> Tensor:
    """logprob [B, T, L] in time order -> the mean per-item CTC cost (per-target-length normalised, as
    ``nn.CTCLoss``'s default), with zero_infinity as the official."""
    B, _T, L = logprob.shape
    lp = F.pad(logprob.float(), (1, 0), value=blank_logprob)  # blank is column 0
    token_ok = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=lp.device),
                          length_mask(in_lens.to(lp.device), L)], dim=1)
    lp = lp.masked_fill(~token_ok[:, None, :], -1e4)  # padded tokens: out of the softmax
    lp = torch.log_softmax(lp, dim=2).transpose(0, 1)  # [T, B, L + 1]
    targets = torch.arange(1, L + 1, device=lp.device).expand(B, L)
    cost = F.ctc_loss(lp, targets, out_lens.to(lp.device), in_lens.to(lp.device), blank=0, reduction="none",
                      zero_infinity=True)
    return (cost / in_lens.to(cost.device).clamp(min=1)).mean()


def flowtron_losses(out: FlowtronOutput, gate_target: Tensor, in_lens: Tensor, out_lens: Tensor, sigma: float = 1.0,
                    use_gate: bool = True, use_ctc: bool = True, blank_logprob: float = -8.0) -> FlowtronLosses:
    nll = nll_loss(out, out_lens, sigma)
    zero = nll.new_zeros(())
    gate = gate_loss(out.gate, gate_target, out_lens) if use_gate and out.gate is not None else zero
    ctc = zero
    if use_ctc:
        per_flow = []
        for k, logprob in enumerate(out.attention_logprob):
            in_time_order = reverse_valid(logprob, out_lens) if k % 2 else logprob
            per_flow.append(attention_ctc_loss(in_time_order, in_lens, out_lens, blank_logprob))
        ctc = torch.stack(per_flow).mean()
    return FlowtronLosses(nll, gate, ctc)


__all__ = ["FlowtronLosses", "attention_ctc_loss", "flowtron_losses", "gate_loss", "nll_loss"]
