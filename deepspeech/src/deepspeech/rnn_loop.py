"""A CPU path for torch's GRU/LSTM/RNN modules whose backward pass is linear in sequence length.

On CPU, autograd through ``nn.GRU`` (packed or padded) zero-fills a gradient buffer the size of the whole
input at every time step, so one backward pass costs O(T^2 * B * H) memory traffic; profiling the tiny
demo model showed ``aten::fill_`` taking over 80 % of a training step. This module runs the same cells
with the same parameters (so checkpoints are interchangeable) as: one matmul for all input projections,
then a loop over ``unbind``-ed time steps, whose backward is a single ``stack``. It is exact, not an
approximation; a test compares it with the packed cuDNN-style path it replaces.
"""

from __future__ import annotations

import torch
from torch import nn

from deepspeech.layers_util import reverse_within_length


def _cell(kind: str, gi: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, w_hh: torch.Tensor,
          b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One step of torch's cell equations, given the input projection ``gi`` = W_ih x_t + b_ih."""
    gh = torch.addmm(b_hh, h, w_hh.t())
    if kind == "gru":  # gate order r, z, n; the reset gate multiplies the recurrent product (cuDNN form)
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return n + z * (h - n), None
    if kind == "lstm":  # gate order i, f, g, o
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    return torch.relu(gi + gh), None  # nn.RNN(nonlinearity="relu")


def _direction(rnn: nn.RNNBase, kind: str, x: torch.Tensor, suffix: str) -> torch.Tensor:
    """Run one direction's layer-0 weights over [B, T, D] from t = 0; returns [B, T, H]."""
    w_ih, w_hh = getattr(rnn, f"weight_ih_l0{suffix}"), getattr(rnn, f"weight_hh_l0{suffix}")
    b_ih, b_hh = getattr(rnn, f"bias_ih_l0{suffix}"), getattr(rnn, f"bias_hh_l0{suffix}")
    gi_all = torch.nn.functional.linear(x, w_ih, b_ih)  # [B, T, G*H] for every step at once
    h = x.new_zeros(x.shape[0], rnn.hidden_size)
    c = h if kind == "lstm" else None
    outputs = []
    for gi in gi_all.unbind(1):
        h, c = _cell(kind, gi, h, c, w_hh, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def run_rnn_loop(rnn: nn.RNNBase, kind: str, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Outputs [B, T, H * dirs] of a single-layer ``rnn`` on padded ``x``, zero past each length.

    The forward direction's valid outputs never see later padding; the backward direction runs on each
    sequence reversed within its own length, so it starts at the utterance's true last frame.
    """
    mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1).to(x.dtype)
    out = [_direction(rnn, kind, x, "")]
    if rnn.bidirectional:
        backward = _direction(rnn, kind, reverse_within_length(x, lengths), "_reverse")
        out.append(reverse_within_length(backward, lengths))
    return torch.cat(out, dim=-1) * mask
