"""Flowtron (Valle et al., ICLR 2021): autoregressive flow TTS with style control, faithful to NVIDIA/flowtron."""

from flowtron.checkpoint import load_checkpoint
from flowtron.config import FlowtronConfig, ModelConfig
from flowtron.model import Flowtron, FlowtronInputError, FlowtronOutput

__all__ = ["Flowtron", "FlowtronConfig", "FlowtronInputError", "FlowtronOutput", "ModelConfig", "load_checkpoint"]
