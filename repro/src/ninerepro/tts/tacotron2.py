"""Tacotron 2 (Shen et al. 2018) with the NVIDIA/tacotron2 hyperparameters: the baseline both Flowtron and
Mellotron compare against, and the frame both extend.

Key names equal the official ones (``embedding``, ``encoder.convolutions.0.0.conv.weight``,
``decoder.attention_layer.query_layer.linear_layer.weight``, ...), so an official ``state_dict`` loads as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ninerepro.tts.decoder import Decoder, DecoderConfig, DecodeResult
from ninerepro.tts.encoder import ConvMode, TextEncoder
from ninerepro.tts.layers import length_mask
from ninerepro.tts.prenet import Postnet

GATE_PAD_LOGIT = 1e3  # the official value written into padded gate positions (sigmoid = 1: "stopped")


@dataclass
class Tacotron2Config:
    """NVIDIA/tacotron2 ``hparams.py`` model values (the official names, grouped)."""

    n_symbols: int = 148
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    encoder_conv_mode: ConvMode = "batched"
    n_mel_channels: int = 80
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    max_decoder_steps: int = 1000
    gate_threshold: float = 0.5
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    attention_rnn_dim: int = 1024
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    mask_padding: bool = True
    prenet_dropout: bool = True
    """Official behaviour: the prenet's dropout stays on in eval mode too (False = deterministic inference)."""

    def decoder_config(self, memory_dim: int | None = None, f0_dim: int = 0, f0_kernel: int = 1,
                       cell_dropout: bool = False) -> DecoderConfig:
        return DecoderConfig(self.n_mel_channels, memory_dim or self.encoder_embedding_dim, self.prenet_dim,
                             self.attention_rnn_dim, self.decoder_rnn_dim, self.attention_dim,
                             self.attention_location_n_filters, self.attention_location_kernel_size,
                             self.p_attention_dropout, self.p_decoder_dropout, f0_dim, f0_kernel, cell_dropout)


def symbol_embedding(n_symbols: int, dim: int) -> nn.Embedding:
    """Uniform init with the official bound sqrt(3) * sqrt(2 / (n_symbols + dim))."""
    emb = nn.Embedding(n_symbols, dim)
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (n_symbols + dim))
    nn.init.uniform_(emb.weight, -bound, bound)
    return emb


def text_encoder(cfg: Tacotron2Config) -> TextEncoder:
    return TextEncoder(cfg.encoder_embedding_dim, cfg.encoder_n_convolutions, cfg.encoder_kernel_size,
                       conv_mode=cfg.encoder_conv_mode)


def postnet(cfg: Tacotron2Config) -> Postnet:
    return Postnet(cfg.n_mel_channels, cfg.postnet_embedding_dim, cfg.postnet_kernel_size,
                   cfg.postnet_n_convolutions)


def finish(decoded: DecodeResult, post: Postnet, output_lengths: Tensor | None, mask_padding: bool,
           zero_before_postnet: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(mel, mel + postnet(mel), gate logits, alignments), the official 4-tuple.

    With ``mask_padding`` and known lengths, outputs past each length are zero and the gate logit there is 1e3,
    as the official ``parse_output`` writes them. Teacher-forced, the postnet sees the decoder's frames past each
    length (official behaviour, so the last valid frames depend on them); ``zero_before_postnet`` zeroes those
    first, which batched free-running synthesis uses so each utterance sees the zero padding it would see alone.
    """
    mel = decoded.mel
    valid = None if output_lengths is None else length_mask(output_lengths, mel.shape[2])
    if valid is not None and zero_before_postnet:
        mel = mel * valid[:, None, :]
    mel_post = mel + post(mel)
    gate = decoded.gate
    if valid is not None and mask_padding:
        mel = mel.masked_fill(~valid[:, None, :], 0.0)
        mel_post = mel_post.masked_fill(~valid[:, None, :], 0.0)
        gate = gate.masked_fill(~valid, GATE_PAD_LOGIT)
    return mel, mel_post, gate, decoded.alignments


class PrenetDropoutSwitch:
    """``model.prenet_dropout``: the official always-on prenet dropout (True) or deterministic output (False);
    for models whose decoder is a ``ninerepro.tts.Decoder`` at ``self.decoder``."""

    decoder: Decoder

    @property
    def prenet_dropout(self) -> bool:
        return self.decoder.prenet.always_dropout

    @prenet_dropout.setter
    def prenet_dropout(self, on: bool) -> None:
        self.decoder.prenet.always_dropout = bool(on)


class Tacotron2(PrenetDropoutSwitch, nn.Module):
    def __init__(self, cfg: Tacotron2Config | None = None):
        super().__init__()
        self.cfg = cfg = cfg or Tacotron2Config()
        self.embedding = symbol_embedding(cfg.n_symbols, cfg.symbols_embedding_dim)
        self.encoder = text_encoder(cfg)
        self.decoder = Decoder(cfg.decoder_config(), prenet_always_dropout=cfg.prenet_dropout)
        self.postnet = postnet(cfg)

    def forward(self, text: Tensor, text_lengths: Tensor, mel: Tensor,
                output_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Teacher-forced: text [B, L] ids, mel [B, 80, T] -> (mel, mel_postnet, gate [B, T], alignments)."""
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        decoded = self.decoder(memory, text_lengths, mel)
        return finish(decoded, self.postnet, output_lengths, self.cfg.mask_padding)

    @torch.no_grad()
    def inference(self, text: Tensor, gate_threshold: float | None = None,
                  max_decoder_steps: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One utterance [1, L] -> the 4-tuple, decoding until the gate fires."""
        memory = self.encoder.inference(self.embedding(text).transpose(1, 2))
        decoded = self.decoder.inference(memory, None, gate_threshold or self.cfg.gate_threshold,
                                         max_decoder_steps or self.cfg.max_decoder_steps)
        return finish(decoded, self.postnet, None, self.cfg.mask_padding)
