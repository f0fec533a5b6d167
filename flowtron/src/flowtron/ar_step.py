"""One autoregressive affine flow step of Flowtron, and its time-reversed twin.

Forward (training, density): for frame t, an attention LSTM reads the previous *input* frames x_{<t} (a zero
frame first), attends over the text, a 2-layer LSTM and two tanh layers map [LSTM state; context] to (log s_t, b_t),
and x'_t = exp(log s_t) * x_t + b_t. Because s_t and b_t depend only on x_{<t}, the Jacobian is triangular: its
log-determinant is the sum of log s, and the whole sequence is one teacher-forced pass.

Inverse (inference, sampling): x_t = (x'_t - b_t) / exp(log s_t), frame by frame, each recovered frame fed back to
the attention LSTM. The last flow of the model carries the gate (stop token) on [attention state; context].

Reversed flows flip time per utterance (padding stays at the end: flip, then roll each item by its length) so
the flows alternate direction. Outputs of a reversed flow (log s, gate, attention) are returned in *its* frame
order, as the official code returns them: the loss masks by length, which is the same set of positions in both
orders, and the gate is trained for the last step of the order its flow generates in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flowtron.attention import AttentionConditioning, FlowtronAttention
from flowtron.config import ModelConfig
from ninerepro.tts.layers import XavierLinear


@dataclass
class FlowOutput:
    z: Tensor  # [B, T, n_mel], in the input's time order
    log_s: Tensor  # [B, T, n_mel], in this flow's processing order
    gate: Tensor | None  # [B, T, 1] logits, processing order; None without a gate layer
    attention: Tensor  # [B, T, L], processing order
    attention_logprob: Tensor  # [B, T, L], processing order (the CTC loss's input)


@dataclass
class InverseOutput:
    x: Tensor  # [1, n, n_mel] recovered frames, input time order (n < N if the gate stopped early)
    attention: Tensor  # [1, n, L], processing order


class DenseLayer(nn.Module):
    """Two tanh layers (official ``DenseLayer``)."""

    def __init__(self, in_dim: int, sizes: tuple[int, ...]):
        super().__init__()
        dims = (in_dim, *sizes)
        self.layers = nn.ModuleList(XavierLinear(a, b) for a, b in itertools.pairwise(dims))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


def reverse_valid(x: Tensor, lengths: Tensor) -> Tensor:
    """[B, T, ...] -> each item's first ``length`` steps in reverse order, padding left where it was.

    The official code flips the batch and rolls each item by its length; this gather gives the same valid
    steps without a Python loop over the batch (padded steps are never read by anything that is kept)."""
    T = x.shape[1]
    t = torch.arange(T, device=x.device)[None, :]
    n = lengths.to(x.device)[:, None]
    index = torch.where(t < n, n - 1 - t, t)
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


class ARStep(nn.Module):
    def __init__(self, cfg: ModelConfig, add_gate: bool):
        super().__init__()
        n_mel, n_hidden, n_attn = cfg.n_mel_channels, cfg.n_hidden, cfg.n_attn_channels
        self.use_cumm_attention = cfg.use_cumm_attention
        self.conv = nn.Conv1d(n_hidden, 2 * n_mel, 1)
        nn.init.zeros_(self.conv.weight)  # zero init: each flow starts as the identity
        nn.init.zeros_(self.conv.bias)
        self.lstm = nn.LSTM(n_hidden + n_attn, n_hidden, cfg.n_lstm_layers, batch_first=True)
        self.attention_lstm = nn.LSTM(n_mel, n_hidden, batch_first=True)
        self.attention_layer = FlowtronAttention(n_hidden, cfg.memory_dim, n_attn)
        if cfg.use_cumm_attention:
            self.attn_cond_layer = AttentionConditioning(cfg.memory_dim)
        self.dense_layer = DenseLayer(n_hidden, (n_hidden, n_hidden))
        if add_gate:
            self.gate_layer = XavierLinear(n_hidden + n_attn, 1, gain="sigmoid")

    @property
    def has_gate(self) -> bool:
        return hasattr(self, "gate_layer")

    def _affine_params(self, decoder_hidden: Tensor) -> tuple[Tensor, Tensor]:
        out = self.conv(self.dense_layer(decoder_hidden).transpose(1, 2)).transpose(1, 2)
        n_mel = out.shape[-1] // 2
        return out[..., :n_mel], out[..., n_mel:]

    @staticmethod
    def _packed(rnn: nn.LSTM, x: Tensor, lengths: Tensor | None) -> Tensor:
        if lengths is None:
            return rnn(x)[0]
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]

    def _cumulative_attention(self, hidden: Tensor, memory: Tensor, pad_mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """Teacher-forced weights with cumulative-attention conditioning: necessarily frame by frame. As in the
        official code, the alignment prior is not used on this path."""
        B, L = memory.shape[0], memory.shape[1]
        cumulative = memory.new_zeros(B, 1, L)
        previous = memory.new_zeros(B, 1, L)
        weights, logprobs = [], []
        for t in range(hidden.shape[1]):
            cond = self.attn_cond_layer(torch.cat([cumulative, previous], dim=1).to(memory.dtype))
            keys = self.attention_layer.key(memory * cond)
            w, lp = self.attention_layer.weights(hidden[:, t : t + 1], keys, pad_mask)
            weights.append(w)
            logprobs.append(lp)
            previous = w
            cumulative = cumulative + w
        return torch.cat(weights, 1), torch.cat(logprobs, 1)

    def forward(self, x: Tensor, memory: Tensor, pad_mask: Tensor | None, lengths: Tensor | None,
                prior: Tensor | None = None) -> FlowOutput:
        """x [B, T, n_mel] (zero past each length), memory [B, L, M], pad_mask [B, L] (True = padded token),
        lengths [B] or None (all T), prior [B, T, L] or None."""
        shifted = F.pad(x, (0, 0, 1, 0))[:, :-1]  # x_{<t}: a zero frame first
        hidden = self._packed(self.attention_lstm, shifted, lengths)
        if self.use_cumm_attention:
            attn, logprob = self._cumulative_attention(hidden, memory, pad_mask)
            values = self.attention_layer.value(memory)
        else:
            keys, values = self.attention_layer.project_memory(memory, memory)
            attn, logprob = self.attention_layer.weights(hidden, keys, pad_mask, prior)
        decoder_input = torch.cat([hidden, self.attention_layer.context(attn, values)], dim=-1)
        gate = self.gate_layer(decoder_input) if self.has_gate else None
        log_s, b = self._affine_params(self._packed(self.lstm, decoder_input, lengths))
        return FlowOutput(torch.exp(log_s) * x + b, log_s, gate, attn, logprob)

    @torch.no_grad()
    def inverse(self, residual: Tensor, memory: Tensor, temperature: float = 1.0, gate_threshold: float = 0.5,
                forced_attention: Tensor | None = None, prior: Tensor | None = None,
                gate_check_every: int = 1) -> InverseOutput:
        """residual [1, N, n_mel] -> recovered frames; stops after the frame whose gate sigmoid exceeds
        ``gate_threshold`` (that frame is kept; ``gate_threshold >= 1`` never stops). ``forced_attention``
        [N, L] replaces the computed weights; ``prior`` [1, N, L].

        ``gate_check_every`` > 1 reads the gate back to the host only every k frames (a GPU sync each frame is
        what makes the official loop launch-bound); frames past the first firing are computed and discarded,
        so the output is the same."""
        N = residual.shape[1]
        att_layer = self.attention_layer
        values = att_layer.value(memory)
        keys = None if self.use_cumm_attention else att_layer.key(memory)
        L = memory.shape[1]
        cumulative = memory.new_zeros(1, 1, L)
        previous = memory.new_zeros(1, 1, L)
        frame = residual.new_zeros(1, 1, residual.shape[2])
        att_state = dec_state = None
        out, weights, gates = [], [], []
        w_out = self.conv.weight[:, :, 0]
        n_mel = residual.shape[2]
        stop = N
        for t in range(N):
            h, att_state = self.attention_lstm(frame, att_state)
            if forced_attention is not None:
                w = forced_attention[t].reshape(1, 1, L).to(values.dtype)
            else:
                if self.use_cumm_attention:
                    cond = self.attn_cond_layer(torch.cat([cumulative, previous], dim=1))
                    keys = att_layer.key(memory * cond)
                w, _ = att_layer.weights(h, keys, None, None if prior is None else prior[:, t : t + 1], temperature)
                if self.use_cumm_attention:
                    previous, cumulative = w.to(memory.dtype), cumulative + w.to(memory.dtype)
            decoder_input = torch.cat([h, att_layer.context(w, values)], dim=-1)
            d, dec_state = self.lstm(decoder_input, dec_state)
            params = F.linear(self.dense_layer(d), w_out, self.conv.bias)
            log_s, b = params[..., :n_mel], params[..., n_mel:]
            frame = (residual[:, t : t + 1] - b) * torch.exp(-log_s)
            out.append(frame)
            weights.append(w)
            if self.has_gate and gate_threshold < 1.0:
                gates.append(torch.sigmoid(self.gate_layer(decoder_input)).reshape(1))
                if (t + 1) % gate_check_every == 0 or t == N - 1:
                    fired = torch.nonzero(torch.cat(gates) > gate_threshold)
                    if fired.numel():
                        stop = int(fired[0, 0]) + 1
                        break
        return InverseOutput(torch.cat(out[:stop], 1), torch.cat(weights[:stop], 1).float())


class BackwardARStep(nn.Module):
    """An ``ARStep`` run on time-reversed frames (official ``AR_Back_Step``; its weights sit under ``ar_step``)."""

    def __init__(self, cfg: ModelConfig, add_gate: bool):
        super().__init__()
        self.ar_step = ARStep(cfg, add_gate)

    @property
    def has_gate(self) -> bool:
        return self.ar_step.has_gate

    def forward(self, x: Tensor, memory: Tensor, pad_mask: Tensor | None, lengths: Tensor | None,
                prior: Tensor | None = None) -> FlowOutput:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)
        out = self.ar_step(reverse_valid(x, lengths), memory, pad_mask, lengths,
                           None if prior is None else reverse_valid(prior, lengths))
        out.z = reverse_valid(out.z, lengths)
        return out

    def inverse(self, residual: Tensor, memory: Tensor, temperature: float = 1.0, gate_threshold: float = 0.5,
                forced_attention: Tensor | None = None, prior: Tensor | None = None,
                gate_check_every: int = 1) -> InverseOutput:
        out = self.ar_step.inverse(residual.flip(1), memory, temperature, gate_threshold, forced_attention,
                                   None if prior is None else prior.flip(1), gate_check_every)
        out.x = out.x.flip(1)
        return out


__all__ = ["ARStep", "BackwardARStep", "DenseLayer", "FlowOutput", "InverseOutput", "reverse_valid"]
