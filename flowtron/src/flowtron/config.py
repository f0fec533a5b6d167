"""Flowtron configuration: the official ``config.json`` (NVIDIA/flowtron) section for section.

``model`` uses the official ``model_config`` names field for field, so an official ``config.json`` model section, or
a user's ``model_config`` dict, maps onto it without translation (``ModelConfig.from_official``). ``data`` holds the
official ``data_config`` values; the official ``train_config`` maps onto ``ninerepro.train`` (RAdam lr 1e-3, weight
decay 1e-6, grad clip 1, batch 6, fp16, seed 1234) plus ``loss`` (gate and attention-CTC switches) and
``warm_start`` (``include_layers``/``ignore_layers``/``finetune_layers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ninerepro.train import OptimizerConfig, TrainerConfig
from ninerepro.train.config import ConfigError, from_dict


@dataclass
class ModelConfig:
    """``model_config`` of the official LJS ``config.json``: 60,977,473 parameters (2 flows, 1 speaker)."""

    n_speakers: int = 1
    n_speaker_dim: int = 128
    n_text: int = 185
    """len(text.symbols): 101 characters + 84 ARPAbet symbols"""
    n_text_dim: int = 512
    n_flows: int = 2
    """autoregressive flow steps, alternating time direction (the paper's "3" in one place is a typo, #17)"""
    n_mel_channels: int = 80
    n_attn_channels: int = 640
    """width of the attention projections and of the context (memory is n_text_dim + n_speaker_dim)"""
    n_hidden: int = 1024
    n_lstm_layers: int = 2
    mel_encoder_n_hidden: int = 512
    """only used by the Gaussian-mixture prior (n_components > 1)"""
    n_components: int = 0
    """> 1 turns on the Gaussian-mixture prior"""
    mean_scale: float = 0.0
    fixed_gaussian: bool = True
    dummy_speaker_embedding: bool = False
    """all speaker ids map to row 0"""
    use_gate_layer: bool = True
    use_cumm_attention: bool = False

    def __post_init__(self) -> None:
        for name in ("n_speakers", "n_speaker_dim", "n_text", "n_text_dim", "n_flows", "n_mel_channels",
                     "n_attn_channels", "n_hidden", "n_lstm_layers"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_text_dim % 2:
            raise ValueError(f"model.n_text_dim must be even (BiLSTM of n_text_dim/2 each way), got {self.n_text_dim}")
        if self.n_components == 1 or self.n_components < 0:
            raise ValueError(f"model.n_components must be 0 (standard normal prior) or >= 2, got {self.n_components}")

    @property
    def memory_dim(self) -> int:
        return self.n_text_dim + self.n_speaker_dim

    @classmethod
    def from_official(cls, model_config: dict[str, Any]) -> ModelConfig:
        """An official ``model_config`` dict; an unknown name is an error naming it."""
        unknown = sorted(set(model_config) - MODEL_KEYS - {"_source"})
        if unknown:
            raise ConfigError(f"model_config: unknown key(s) {unknown}; the official names are "
                              f"{', '.join(sorted(MODEL_KEYS))}")
        try:
            return from_dict(cls, {k: v for k, v in model_config.items() if k in MODEL_KEYS})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"model_config: {exc}") from None


MODEL_KEYS = {f.name for f in fields(ModelConfig)}


@dataclass
class DataConfig:
    """``data_config`` of the official config.json (LJSpeech filelists, flowtron_cleaners, p_arpabet 0.5)."""

    training_files: str = "filelists/ljs_audiopaths_text_sid_train_filelist.txt"
    validation_files: str = "filelists/ljs_audiopaths_text_sid_val_filelist.txt"
    text_cleaners: list[str] = field(default_factory=lambda: ["flowtron_cleaners"])
    p_arpabet: float = 0.5
    """probability that a CMUdict word is spelled as phones, drawn per word per access"""
    keep_ambiguous: bool = False
    """keep CMUdict words with several pronunciations (official default: drop them)"""
    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    max_wav_value: float = 32768.0
    use_attn_prior: bool = True
    """multiply the attention by the static beta-binomial prior (train with it, then resume without it)"""
    attn_prior_threshold: float = 0.0
    """prior values below this are set to 0 (official config 0.0)"""
    betab_scaling_factor: float = 1.0
    batch_size: int = 6
    num_workers: int = 2
    seed: int = 1234
    """seed of the per-word ARPAbet draws"""

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_arpabet <= 1.0:
            raise ValueError(f"data.p_arpabet must be in [0, 1], got {self.p_arpabet}")
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {self.batch_size}")
        if self.betab_scaling_factor <= 0:
            raise ValueError(f"data.betab_scaling_factor must be > 0, got {self.betab_scaling_factor}")


@dataclass
class LossConfig:
    sigma: float = 1.0
    """standard deviation of the Gaussian prior on z in training"""
    gate_loss: bool = True
    use_ctc_loss: bool = True
    ctc_loss_weight: float = 0.01
    blank_logprob: float = -8.0
    ctc_loss_start_iter: int = 10000
    """the attention CTC loss is added from this optimizer step on"""


@dataclass
class WarmStartConfig:
    checkpoint: str = ""
    """a Flowtron checkpoint (ours or any official format) to copy weights from; empty = from scratch"""
    include_layers: list[str] = field(default_factory=lambda: ["speaker", "encoder", "embedding"])
    """copy only tensors whose name contains one of these (official config); [] = every matching tensor"""
    ignore_layers: list[str] = field(default_factory=list)
    """tensors left at their fresh init, e.g. speaker_embedding.weight for a new speaker table"""
    finetune_layers: list[str] = field(default_factory=list)
    """if given, only these parameters are trained (few-shot: ["speaker_embedding.weight"])"""


def default_train() -> TrainerConfig:
    """config.json train_config: RAdam lr 1e-3, weight decay 1e-6, grad clip 1, fp16, seed 1234."""
    return TrainerConfig(max_steps=1_000_000, grad_clip=1.0, precision="fp16", seed=1234, ckpt_every=1000,
                         val_every=1000, optimizer=OptimizerConfig(name="radam", lr=1e-3, weight_decay=1e-6))


@dataclass
class FlowtronConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainerConfig = field(default_factory=default_train)
    loss: LossConfig = field(default_factory=LossConfig)
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    speakers: dict[str, int] = field(default_factory=dict)
    """raw speaker id -> model row; filled from the training list when empty and saved with every checkpoint, so
    inference uses the training list's table"""

    def __post_init__(self) -> None:
        if self.data.n_mel_channels != self.model.n_mel_channels:
            raise ValueError(f"data.n_mel_channels={self.data.n_mel_channels} differs from "
                             f"model.n_mel_channels={self.model.n_mel_channels}")


__all__ = [
    "MODEL_KEYS",
    "DataConfig",
    "FlowtronConfig",
    "LossConfig",
    "ModelConfig",
    "WarmStartConfig",
    "default_train",
]
