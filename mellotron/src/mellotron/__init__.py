"""Mellotron: one multispeaker Tacotron 2 that takes style, pitch and rhythm from a reference and sings or speaks
in another voice (Valle et al., ICASSP 2020). The public API mirrors NVIDIA/mellotron's."""

from mellotron.checkpoint import load_checkpoint
from mellotron.config import MellotronConfig, MellotronModelConfig
from mellotron.model import Mellotron, MellotronInputError

__all__ = ["Mellotron", "MellotronConfig", "MellotronInputError", "MellotronModelConfig", "load_checkpoint"]
