"""Flowtron (Valle et al., ICLR 2021): an autoregressive normalising flow from mel frames to Gaussian noise.

``forward`` maps a mel spectrogram to z through ``n_flows`` invertible steps conditioned on the text and the
speaker (the density the loss maximises); ``infer`` inverts them from a sampled z. Module and parameter names
follow NVIDIA/flowtron, so its ``state_dict`` loads with no key map (``flowtron.checkpoint``). Tensors here are
batch-first; the official code is time-first, which changes no parameter.

Inference control is in the input: z ~ N(0, sigma^2) sets the variation (sigma 0 = the mean prosody), a z from the
forward pass of a reference clip transfers its style (``flowtron.control``), and ``gate_threshold`` and the
attention ``temperature`` are knobs of the inversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from flowtron.ar_step import ARStep, BackwardARStep
from flowtron.config import ModelConfig
from flowtron.mixture import GaussianMixture, MelEncoder
from ninerepro.tts.encoder import TextEncoder
from ninerepro.tts.layers import length_mask


class FlowtronInputError(ValueError):
    """A request the model cannot serve (speaker outside the table, empty text, bad shapes); one line, no trace."""


@dataclass
class FlowtronOutput:
    z: Tensor  # [B, n_mel, T]
    log_s: list[Tensor]  # per flow, [B, T, n_mel] in that flow's processing order
    gate: Tensor | None  # [B, T, 1] logits of the gated (last) flow, in its processing order
    attention: list[Tensor]  # per flow, [B, T, L]
    attention_logprob: list[Tensor]  # per flow, [B, T, L]
    mean: Tensor | None = None  # Gaussian-mixture prior, when n_components > 1
    log_var: Tensor | None = None
    prob: Tensor | None = None


class Flowtron(nn.Module):
    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        cfg = cfg or ModelConfig()
        self.cfg = cfg
        self.speaker_embedding = nn.Embedding(cfg.n_speakers, cfg.n_speaker_dim)
        self.embedding = nn.Embedding(cfg.n_text, cfg.n_text_dim)
        self.encoder = TextEncoder(cfg.n_text_dim, norm="instance")
        if cfg.n_components > 1:
            self.mel_encoder = MelEncoder(cfg.n_mel_channels, cfg.mel_encoder_n_hidden)
            self.gaussian_mixture = GaussianMixture(cfg.mel_encoder_n_hidden, cfg.n_components, cfg.n_mel_channels,
                                                    cfg.fixed_gaussian, cfg.mean_scale)
        self.flows = nn.ModuleList()
        for i in range(cfg.n_flows):
            gated = cfg.use_gate_layer and i == cfg.n_flows - 1
            self.flows.append(ARStep(cfg, gated) if i % 2 == 0 else BackwardARStep(cfg, gated))

    # ---- conditioning ---------------------------------------------------------------------------------------
    def _speaker_vectors(self, speaker_ids: Tensor) -> Tensor:
        ids = speaker_ids.reshape(-1).long()
        if self.cfg.dummy_speaker_embedding:
            ids = ids * 0
        elif ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.cfg.n_speakers):
            raise FlowtronInputError(f"speaker id {ids.tolist()} is outside this model's table of "
                                     f"{self.cfg.n_speakers} speaker(s) (ids 0..{self.cfg.n_speakers - 1})")
        return self.speaker_embedding(ids)

    def memory(self, text: Tensor, speaker_ids: Tensor, text_lengths: Tensor | None = None) -> Tensor:
        """Encoder outputs with the speaker vector appended to every token: [B, L, n_text_dim + n_speaker_dim]."""
        if text.dim() != 2 or text.shape[1] == 0:
            raise FlowtronInputError(f"text must be [B, L] symbol ids with L >= 1, got shape {tuple(text.shape)}")
        if int(text.min()) < 0 or int(text.max()) >= self.cfg.n_text:
            raise FlowtronInputError(f"text holds symbol ids outside 0..{self.cfg.n_text - 1}: was it encoded with "
                                     "another symbol table?")
        embedded = self.embedding(text).transpose(1, 2)
        encoded = self.encoder.inference(embedded) if text_lengths is None else self.encoder(embedded, text_lengths)
        speakers = self._speaker_vectors(speaker_ids)
        return torch.cat([encoded, speakers[:, None, :].expand(-1, encoded.shape[1], -1)], dim=2)

    # ---- density --------------------------------------------------------------------------------------------
    def forward(self, mel: Tensor, speaker_ids: Tensor, text: Tensor, in_lens: Tensor,
                out_lens: Tensor | None, attn_prior: Tensor | None = None) -> FlowtronOutput:
        """mel [B, n_mel, T], speaker_ids [B], text [B, L], in_lens [B], out_lens [B] or None (all T),
        attn_prior [B, T, L] or None -> z and what the loss needs (``flowtron.loss.FlowtronLoss``)."""
        memory = self.memory(text, speaker_ids, in_lens)
        pad_mask = ~length_mask(in_lens.to(text.device), memory.shape[1])
        mean = log_var = prob = None
        if hasattr(self, "gaussian_mixture"):
            mean, log_var, prob = self.gaussian_mixture(self.mel_encoder(mel, out_lens))
        x = mel.transpose(1, 2)
        log_s, attention, logprob, gate = [], [], [], None
        for flow in self.flows:
            out = flow(x, memory, pad_mask, out_lens, attn_prior)
            x, gate = out.z, out.gate
            log_s.append(out.log_s)
            attention.append(out.attention)
            logprob.append(out.attention_logprob)
        return FlowtronOutput(x.transpose(1, 2), log_s, gate, attention, logprob, mean, log_var, prob)

    # ---- sampling -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def infer(self, residual: Tensor, speaker_ids: Tensor, text: Tensor, temperature: float = 1.0,
              gate_threshold: float = 0.5, attns: Sequence[Tensor] | None = None,
              attn_prior: Tensor | None = None, gate_check_every: int = 1) -> tuple[Tensor, list[Tensor]]:
        """Invert the flows from ``residual`` z [1, n_mel, N] -> (mel [1, n_mel, n], attention per flow).

        ``speaker_ids`` [1] or [1, 1]; ``text`` [1, L]. The flows run in reverse order, so the gated flow comes
        first and generation stops after the frame whose gate fires (``gate_threshold >= 1``: all N frames).
        The attention list is in the order the flows were applied (the official order), each [1, n_k, L] in
        that flow's processing order. ``attns`` (per flow, in ``self.flows`` order, each [N, L] or [1, N, L])
        forces the alignment, e.g. one taken from ``forward`` on a reference clip. ``attn_prior`` [1, N, L]."""
        if residual.dim() != 3 or residual.shape[0] != 1 or residual.shape[1] != self.cfg.n_mel_channels:
            raise FlowtronInputError(f"residual must be [1, {self.cfg.n_mel_channels}, N], got "
                                     f"{tuple(residual.shape)}")
        if text.shape[0] != 1:
            raise FlowtronInputError(f"infer takes one utterance (text [1, L]), got batch {text.shape[0]}")
        if temperature <= 0:
            raise FlowtronInputError(f"temperature must be > 0, got {temperature}")
        if attns is not None and len(attns) != len(self.flows):
            raise FlowtronInputError(f"attns must hold one alignment per flow ({len(self.flows)}), got {len(attns)}")
        memory = self.memory(text, speaker_ids)
        x = residual.transpose(1, 2)
        weights = []
        for k in reversed(range(len(self.flows))):
            forced = None if attns is None else attns[k].reshape(-1, attns[k].shape[-1])
            out = self.flows[k].inverse(x, memory, temperature, gate_threshold, forced, attn_prior,
                                        gate_check_every)
            x = out.x
            weights.append(out.attention)
        return x.transpose(1, 2), weights

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


__all__ = ["Flowtron", "FlowtronInputError", "FlowtronOutput"]
