"""Tacotron 2 building blocks shared by Mellotron and Flowtron, and a plain Tacotron 2 (their baseline)."""

from repro.tts.attention import LocationSensitiveAttention
from repro.tts.decoder import Decoder, DecoderConfig, DecodeResult, DecoderState
from repro.tts.encoder import TextEncoder
from repro.tts.loss import Tacotron2Losses, gate_targets, tacotron2_loss
from repro.tts.prenet import Postnet, Prenet
from repro.tts.tacotron2 import Tacotron2, Tacotron2Config

__all__ = ["DecodeResult", "Decoder", "DecoderConfig", "DecoderState", "LocationSensitiveAttention", "Postnet",
           "Prenet", "Tacotron2", "Tacotron2Config", "Tacotron2Losses", "TextEncoder", "gate_targets",
           "tacotron2_loss"]
