"""Tacotron 2's autoregressive decoder: prenet -> attention LSTM -> location-sensitive attention -> decoder LSTM
-> (mel frame, stop-gate logit), one frame per step.

The recurrent state is an explicit :class:`DecoderState` passed in and returned, never stored on the module, so a
model can decode several batches at once, be traced or captured, and holds nothing between calls. Mellotron's
additions are switches: a per-frame F0 input (``f0_dim`` > 0, through ``prenet_f0``), dropout on the LSTM cell
states as well as the hidden states (``cell_dropout``), a memory wider than the text encoding (text + style +
speaker), and attention weights supplied from outside (rhythm transfer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ninerepro.tts.attention import LocationSensitiveAttention
from ninerepro.tts.layers import XavierConv1d, XavierLinear, length_mask
from ninerepro.tts.prenet import Prenet


@dataclass(frozen=True)
class DecoderConfig:
    n_mel: int = 80
    memory_dim: int = 512
    prenet_dim: int = 256
    attention_rnn_dim: int = 1024
    decoder_rnn_dim: int = 1024
    attention_dim: int = 128
    location_filters: int = 32
    location_kernel: int = 31
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    f0_dim: int = 0
    """Width of the F0 conditioning (Mellotron: 1); 0 = none (Tacotron 2)."""
    f0_kernel: int = 1
    cell_dropout: bool = False
    """Dropout on LSTM cell states too (Mellotron), not only hidden states (Tacotron 2)."""


@dataclass
class DecoderState:
    attention_hidden: Tensor
    attention_cell: Tensor
    decoder_hidden: Tensor
    decoder_cell: Tensor
    weights: Tensor  # [B, T_in] attention of the previous step
    weights_cum: Tensor  # [B, T_in] their running sum
    context: Tensor  # [B, memory_dim]


@dataclass
class DecodeResult:
    mel: Tensor  # [B, n_mel, T_out]
    gate: Tensor  # [B, T_out] logits
    alignments: Tensor  # [B, T_out, T_in]
    lengths: Tensor  # [B] frames up to and including the first gate firing (or all, teacher-forced)
    reached_max: bool = False


class Decoder(nn.Module):
    def __init__(self, cfg: DecoderConfig, prenet_always_dropout: bool = True):
        super().__init__()
        self.cfg = cfg
        if cfg.f0_dim:
            self.prenet_f0 = XavierConv1d(1, cfg.f0_dim, cfg.f0_kernel, bias=False, padding=cfg.f0_kernel // 2)
        self.prenet = Prenet(cfg.n_mel, (cfg.prenet_dim, cfg.prenet_dim), always_dropout=prenet_always_dropout)
        self.attention_rnn = nn.LSTMCell(cfg.prenet_dim + cfg.f0_dim + cfg.memory_dim, cfg.attention_rnn_dim)
        self.attention_layer = LocationSensitiveAttention(cfg.attention_rnn_dim, cfg.memory_dim, cfg.attention_dim,
                                                          cfg.location_filters, cfg.location_kernel)
        self.decoder_rnn = nn.LSTMCell(cfg.attention_rnn_dim + cfg.memory_dim, cfg.decoder_rnn_dim)
        self.linear_projection = XavierLinear(cfg.decoder_rnn_dim + cfg.memory_dim, cfg.n_mel)
        self.gate_layer = XavierLinear(cfg.decoder_rnn_dim + cfg.memory_dim, 1, gain="sigmoid")

    # ---- one step -----------------------------------------------------------------------------------------
    def initial_state(self, memory: Tensor) -> DecoderState:
        B, T_in, _ = memory.shape
        z = memory.new_zeros
        return DecoderState(z(B, self.cfg.attention_rnn_dim), z(B, self.cfg.attention_rnn_dim),
                            z(B, self.cfg.decoder_rnn_dim), z(B, self.cfg.decoder_rnn_dim),
                            z(B, T_in), z(B, T_in), z(B, self.cfg.memory_dim))

    def step(self, frame_input: Tensor, state: DecoderState, memory: Tensor, processed_memory: Tensor,
             mask: Tensor | None, forced_weights: Tensor | None = None) -> tuple[Tensor, Tensor, DecoderState]:
        """(mel frame [B, n_mel], gate logit [B, 1], next state) from the prenet(+F0) output of the last frame."""
        cfg, drop = self.cfg, self.training
        att_h, att_c = self.attention_rnn(torch.cat([frame_input, state.context], -1),
                                          (state.attention_hidden, state.attention_cell))
        att_h = F.dropout(att_h, cfg.p_attention_dropout, drop)
        if cfg.cell_dropout:
            att_c = F.dropout(att_c, cfg.p_attention_dropout, drop)
        weights_cat = torch.stack([state.weights, state.weights_cum], dim=1)
        context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, mask, forced_weights)
        dec_h, dec_c = self.decoder_rnn(torch.cat([att_h, context], -1), (state.decoder_hidden, state.decoder_cell))
        dec_h = F.dropout(dec_h, cfg.p_decoder_dropout, drop)
        if cfg.cell_dropout:
            dec_c = F.dropout(dec_c, cfg.p_decoder_dropout, drop)
        out = torch.cat([dec_h, context], dim=1)
        new_state = DecoderState(att_h, att_c, dec_h, dec_c, weights, state.weights_cum + weights, context)
        return self.linear_projection(out), self.gate_layer(out), new_state

    def f0_features(self, f0: Tensor, steps: int) -> Tensor:
        """F0 [B, 1, T] (Hz, 0 = unvoiced) -> per-step features [steps, B, f0_dim]: frames past T are zero, as
        the official code appends a zero frame and reads zeros past the contour's end."""
        B = f0.shape[0]
        padded = f0.new_zeros(B, 1, max(steps, f0.shape[2]))
        padded[:, :, : f0.shape[2]] = f0
        return F.relu(self.prenet_f0(padded[:, :, :steps])).permute(2, 0, 1)

    def _frame_inputs(self, prenet_out: Tensor, f0_feats: Tensor | None, t: int) -> Tensor:
        return prenet_out if f0_feats is None else torch.cat([prenet_out, f0_feats[t]], dim=1)

    # ---- loops --------------------------------------------------------------------------------------------
    def forward(self, memory: Tensor, memory_lengths: Tensor, targets: Tensor, f0: Tensor | None = None,
                p_teacher_forcing: float = 1.0, generator: torch.Generator | None = None) -> DecodeResult:
        """Teacher-forced decoding of targets [B, n_mel, T_out]: step t sees ground-truth frame t-1 (a zero go
        frame at t = 0); with ``p_teacher_forcing`` < 1 a step sees its own previous output instead with
        probability 1 - p (scheduled sampling, Mellotron's option)."""
        B, _, T_out = targets.shape
        go = targets.new_zeros(1, B, self.cfg.n_mel)
        prenet_out = self.prenet(torch.cat([go, targets.permute(2, 0, 1)[:-1]], dim=0))  # [T_out, B, prenet]
        f0_feats = self.f0_features(f0, T_out) if self.cfg.f0_dim else None
        mask = ~length_mask(memory_lengths, memory.shape[1])
        processed = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        mels, gates, aligns = [], [], []
        for t in range(T_out):
            if t > 0 and p_teacher_forcing < 1.0 and torch.rand((), generator=generator).item() > p_teacher_forcing:
                frame = self.prenet(mels[-1])
            else:
                frame = prenet_out[t]
            mel, gate, state = self.step(self._frame_inputs(frame, f0_feats, t), state, memory, processed, mask)
            mels.append(mel)
            gates.append(gate)
            aligns.append(state.weights)
        lengths = torch.full((B,), T_out, dtype=torch.long, device=memory.device)
        return DecodeResult(torch.stack(mels, 2), torch.cat(gates, 1), torch.stack(aligns, 1), lengths)

    @torch.no_grad()
    def inference(self, memory: Tensor, f0: Tensor | None = None, gate_threshold: float = 0.5,
                  max_steps: int = 1000, memory_lengths: Tensor | None = None,
                  check_every: int = 8) -> DecodeResult:
        """Free-running decoding until sigmoid(gate) > ``gate_threshold`` (that frame kept) or ``max_steps``.

        The gate is read on the host only every ``check_every`` steps, and the output is cut at the first step
        that fired: frames decoded past it never influence earlier ones, so the result equals stopping at once,
        without a device-to-host sync per frame. Batches stop per utterance (``lengths``).
        """
        B = memory.shape[0]
        f0_feats = self.f0_features(f0, max_steps + 1) if self.cfg.f0_dim else None
        mask = None if memory_lengths is None else ~length_mask(memory_lengths, memory.shape[1])
        processed = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        frame = memory.new_zeros(B, self.cfg.n_mel)
        stop = torch.full((B,), max_steps, dtype=torch.long, device=memory.device)
        mels, gates, aligns = [], [], []
        for t in range(max_steps):
            mel, gate, state = self.step(self._frame_inputs(self.prenet(frame), f0_feats, t), state, memory,
                                         processed, mask)
            mels.append(mel)
            gates.append(gate)
            aligns.append(state.weights)
            fired = (torch.sigmoid(gate[:, 0]) > gate_threshold) & (stop == max_steps)
            stop = torch.where(fired, torch.full_like(stop, t + 1), stop)
            if (t + 1) % check_every == 0 and bool((stop < max_steps).all()):
                break
            frame = mel
        T = int(stop.max())
        mel, gate, align = torch.stack(mels, 2)[:, :, :T], torch.cat(gates, 1)[:, :T], torch.stack(aligns, 1)[:, :T]
        return DecodeResult(mel, gate, align, stop, reached_max=bool((stop == max_steps).any()))

    @torch.no_grad()
    def inference_forced(self, memory: Tensor, alignment: Tensor, f0: Tensor | None = None) -> DecodeResult:
        """Decode exactly ``alignment.shape[1]`` frames with the attention weights given, [B, T_out, T_in]
        (Mellotron's ``inference_noattention``: the rhythm comes from elsewhere, the gate is ignored)."""
        B, T_out, _ = alignment.shape
        f0_feats = self.f0_features(f0, T_out) if self.cfg.f0_dim else None
        processed = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        frame = memory.new_zeros(B, self.cfg.n_mel)
        mels, gates, aligns = [], [], []
        for t in range(T_out):
            frame_in = self._frame_inputs(self.prenet(frame), f0_feats, t)
            frame, gate, state = self.step(frame_in, state, memory, processed, None, alignment[:, t])
            mels.append(frame)
            gates.append(gate)
            aligns.append(state.weights)
        lengths = torch.full((B,), T_out, dtype=torch.long, device=memory.device)
        return DecodeResult(torch.stack(mels, 2), torch.cat(gates, 1), torch.stack(aligns, 1), lengths)


__all__ = ["DecodeResult", "Decoder", "DecoderConfig", "DecoderState"]
