"""Mellotron (Valle et al. 2020): Tacotron 2 whose attention memory also carries a global style (GST) and a
speaker embedding, and whose decoder reads the F0 of the frame it predicts.

Each encoder token's memory is [text encoding (512) ; style (256) ; speaker (128)], so one multispeaker model
can take its style from a reference, its pitch from an F0 contour and its rhythm from an alignment. The
building blocks are ``ninerepro.tts``'s; parameter names equal NVIDIA/mellotron's, so its checkpoints load as they
are. The call signatures mirror the official ones (with the tuple unpacked), so notebooks port line by line.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor, nn

from mellotron.config import MellotronModelConfig
from mellotron.gst import GST
from ninerepro.tts.decoder import Decoder
from ninerepro.tts.tacotron2 import PrenetDropoutSwitch, finish, postnet, symbol_embedding, text_encoder

log = logging.getLogger(__name__)
Outputs = tuple[Tensor, Tensor, Tensor, Tensor]  # mel, mel_postnet, gate logits, alignments


class MellotronInputError(ValueError):
    """An input the model cannot use (speaker id, F0 length, style index...); the message names the fix."""


class Mellotron(PrenetDropoutSwitch, nn.Module):
    def __init__(self, cfg: MellotronModelConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or MellotronModelConfig()
        self.embedding = symbol_embedding(cfg.n_symbols, cfg.symbols_embedding_dim)
        self.encoder = text_encoder(cfg)
        dec_cfg = cfg.decoder_config(cfg.memory_dim, cfg.prenet_f0_dim, cfg.prenet_f0_kernel_size, cell_dropout=True)
        self.decoder = Decoder(dec_cfg, prenet_always_dropout=cfg.prenet_dropout)
        self.postnet = postnet(cfg)
        if cfg.with_gst:
            self.gst = GST(cfg)
        self.speaker_embedding = nn.Embedding(cfg.n_speakers, cfg.speaker_embedding_dim)

    # ---- conditioning -------------------------------------------------------------------------------------
    def check_speakers(self, speaker_ids: Tensor) -> None:
        bad = [int(s) for s in speaker_ids.flatten().tolist() if not 0 <= int(s) < self.cfg.n_speakers]
        if bad:
            raise MellotronInputError(f"speaker id(s) {bad} outside 0..{self.cfg.n_speakers - 1}: this model has "
                                      f"{self.cfg.n_speakers} speakers (ids index the training filelist's sorted "
                                      "speaker table; see ninerepro.data.filelists.speaker_table)")

    def style(self, style: Tensor | int | None, batch: int) -> Tensor | None:
        """[B, 1, E] style embeddings from a reference mel [B, 80, T] or a GST token index; None without GST."""
        if not self.cfg.with_gst:
            return None
        if isinstance(style, int):
            if not 0 <= style < self.cfg.token_num:
                raise MellotronInputError(f"style token {style} outside 0..{self.cfg.token_num - 1}: pass a token "
                                          "index of this model or a reference mel [1, 80, T]")
            return self.gst.stl.token(style).expand(batch, -1, -1)
        if not isinstance(style, Tensor) or style.dim() != 3 or style.shape[1] != self.cfg.n_mel_channels:
            raise MellotronInputError(f"style must be a GST token index or a reference mel [B, "
                                      f"{self.cfg.n_mel_channels}, T], got {getattr(style, 'shape', style)!r}")
        return self.gst(style)

    def memory(self, text_encoding: Tensor, style: Tensor | None, speaker_ids: Tensor) -> Tensor:
        """[text ; style ; speaker] per token: [B, L, memory_dim]."""
        self.check_speakers(speaker_ids)
        L = text_encoding.shape[1]
        parts = [text_encoding]
        if style is not None:
            parts.append(style.expand(-1, L, -1))
        parts.append(self.speaker_embedding(speaker_ids.view(-1))[:, None].expand(-1, L, -1))
        return torch.cat(parts, dim=2)

    def gst_embedding(self, ref_mel: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The style embedding of a reference mel [B, 80, T]: [B, 1, token_embedding_size]."""
        if not self.cfg.with_gst:
            raise MellotronInputError("this model was built with with_gst=false: it has no style tokens")
        return self.gst(ref_mel, lengths)

    # ---- the official entry points ------------------------------------------------------------------------
    def forward(self, text: Tensor, text_lengths: Tensor, mel: Tensor, output_lengths: Tensor,
                speaker_ids: Tensor, f0: Tensor) -> Outputs:
        """Teacher-forced: text [B, L], mel [B, 80, T] (also the style reference, as officially), F0 [B, 1, T]
        -> (mel, mel_postnet [B, 80, T], gate [B, T], alignments [B, T, L])."""
        text_enc = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        style = self.gst(mel, output_lengths) if self.cfg.with_gst else None
        memory = self.memory(text_enc, style, speaker_ids)
        decoded = self.decoder(memory, text_lengths, mel, f0, self.cfg.p_teacher_forcing)
        return finish(decoded, self.postnet, output_lengths, self.cfg.mask_padding)

    def _encode_one(self, text: Tensor, style: Tensor | int | None, speaker_ids: Tensor) -> Tensor:
        if text.dim() != 2 or text.shape[0] != 1 or text.shape[1] == 0:
            raise MellotronInputError(f"text must be one non-empty utterance of symbol ids [1, L], got shape "
                                      f"{tuple(text.shape)}")
        text_enc = self.encoder.inference(self.embedding(text).transpose(1, 2))
        return self.memory(text_enc, self.style(style, 1), speaker_ids)

    @torch.no_grad()
    def inference(self, text: Tensor, style: Tensor | int, speaker_ids: Tensor, f0: Tensor,
                  gate_threshold: float | None = None, max_decoder_steps: int | None = None) -> Outputs:
        """Free-running synthesis of one utterance; F0 [1, 1, N] in Hz (zeros: no pitch given; frames past N are
        unvoiced). Stops when sigmoid(gate) > ``gate_threshold`` or after ``max_decoder_steps`` frames."""
        self._check_f0(f0, None)
        memory = self._encode_one(text, style, speaker_ids)
        decoded = self.decoder.inference(memory, f0, gate_threshold or self.cfg.gate_threshold,
                                         max_decoder_steps or self.cfg.max_decoder_steps)
        if decoded.reached_max:
            log.warning("reached max_decoder_steps=%d before the gate fired: the output may be cut; raise "
                        "max_decoder_steps or lower gate_threshold", max_decoder_steps or self.cfg.max_decoder_steps)
        return _official_inference_shapes(finish(decoded, self.postnet, None, self.cfg.mask_padding))

    @torch.no_grad()
    def inference_noattention(self, text: Tensor, style: Tensor | int, speaker_ids: Tensor, f0: Tensor,
                              attention_map: Tensor) -> Outputs:
        """Synthesis with the rhythm given: ``attention_map`` [T_out, 1, L] (the official layout, e.g. a
        teacher-forced pass's alignments permuted (1, 0, 2)) replaces the attention at every step, and exactly
        T_out frames are produced."""
        if attention_map.dim() != 3 or attention_map.shape[1] != 1 or attention_map.shape[2] != text.shape[-1]:
            raise MellotronInputError(f"attention_map must be [T_out, 1, {text.shape[-1]}] (frames x 1 x text "
                                      f"tokens), got {tuple(attention_map.shape)}")
        self._check_f0(f0, attention_map.shape[0])
        memory = self._encode_one(text, style, speaker_ids)
        decoded = self.decoder.inference_forced(memory, attention_map.permute(1, 0, 2), f0)
        return _official_inference_shapes(finish(decoded, self.postnet, None, self.cfg.mask_padding))

    def _check_f0(self, f0: Tensor, frames: int | None) -> None:
        if f0.dim() != 3 or f0.shape[:2] != (1, 1):
            raise MellotronInputError(f"f0 must be [1, 1, N] (Hz per mel frame, 0 = unvoiced), got "
                                      f"{tuple(f0.shape)}; for no pitch pass torch.zeros(1, 1, N)")
        if frames is not None and f0.shape[2] < frames:
            raise MellotronInputError(f"f0 has {f0.shape[2]} frames but the rhythm has {frames}: give one F0 "
                                      "value per output frame (mellotron.data.f0_contour at hop 256)")


def _official_inference_shapes(outputs: Outputs) -> Outputs:
    """The official inference returns gate logits as [1, T, 1] (teacher-forced ones are [B, T]); kept so
    ported code that indexes them keeps working."""
    mel, mel_post, gate, align = outputs
    return mel, mel_post, gate.unsqueeze(-1), align


__all__ = ["Mellotron", "MellotronInputError", "Outputs"]
