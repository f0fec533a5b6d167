"""Tacotron 2 building blocks shared by Mellotron and Flowtron, and a plain Tacotron 2 (their baseline)."""

from ninerepro.tts.attention import LocationSensitiveAttention
from ninerepro.tts.decoder import Decoder, DecoderConfig, DecodeResult, DecoderState
from ninerepro.tts.encoder import TextEncoder
from ninerepro.tts.loss import Tacotron2Losses, gate_targets, tacotron2_loss
from ninerepro.tts.prenet import Postnet, Prenet
from ninerepro.tts.tacotron2 import Tacotron2, Tacotron2Config

__all__ = ["DecodeResult", "Decoder", "DecoderConfig", "DecoderState", "LocationSensitiveAttention", "Postnet",
           "Prenet", "Tacotron2", "Tacotron2Config", "Tacotron2Losses", "TextEncoder", "gate_targets",
           "tacotron2_loss"]
