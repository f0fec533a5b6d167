"""Mellotron configuration. The model section uses the official ``hparams.py`` names (NVIDIA/mellotron d5362cc)
field for field, so a user's hparams dict or an official training config maps onto it without translation.

Mellotron's model hyperparameters extend Tacotron 2's (``ninerepro.tts.Tacotron2Config``): the text encoder, decoder,
attention and postnet sizes are inherited unchanged, and only the conditioning (speakers, GST, F0) is added.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from ninerepro.train import OptimizerConfig, TrainerConfig
from ninerepro.tts import Tacotron2Config
from ninerepro.tts.encoder import ConvMode


@dataclass
class MellotronModelConfig(Tacotron2Config):
    """hparams.py model values; defaults equal the official ones (31,942,946 parameters at 123 speakers)."""

    n_symbols: int = 185
    """len(text.symbols): Flowtron/Mellotron's 101 characters + 84 ARPAbet symbols"""
    encoder_conv_mode: ConvMode = "per_utterance"
    """the official Mellotron runs the encoder convs one utterance at a time (see ninerepro.tts.encoder)"""
    n_frames_per_step: int = 1
    """only 1 is supported, officially as here"""
    prenet_f0_n_layers: int = 1
    prenet_f0_dim: int = 1
    prenet_f0_kernel_size: int = 1
    prenet_rms_dim: int = 0
    """declared in hparams.py but unused by the official model; must stay 0"""
    p_teacher_forcing: float = 1.0
    n_speakers: int = 123
    speaker_embedding_dim: int = 128
    with_gst: bool = True
    ref_enc_filters: list[int] = field(default_factory=lambda: [32, 32, 64, 64, 128, 128])
    ref_enc_size: list[int] = field(default_factory=lambda: [3, 3])
    ref_enc_strides: list[int] = field(default_factory=lambda: [2, 2])
    ref_enc_pad: list[int] = field(default_factory=lambda: [1, 1])
    ref_enc_gru_size: int = 128
    token_embedding_size: int = 256
    token_num: int = 10
    num_heads: int = 8
    reference_view: Literal["official", "transpose"] = "official"
    """How the reference encoder reads a [B, 80, T] mel. ``official`` reproduces ``mel.view(B, 1, -1, 80)``, a
    reinterpretation of memory, not a transpose: the "image" it convolves is the mel's bytes re-cut into rows
    of 80. Official weights were trained that way and only give official outputs that way. ``transpose`` is the
    time x frequency image the GST paper describes, for models trained from scratch."""

    def __post_init__(self) -> None:
        if self.n_frames_per_step != 1:
            raise ValueError("model.n_frames_per_step: only 1 is supported (as in the official code)")
        if self.prenet_rms_dim != 0:
            raise ValueError("model.prenet_rms_dim: the official model never uses it; keep 0")
        if self.prenet_f0_n_layers != 1:
            raise ValueError("model.prenet_f0_n_layers: the official model builds exactly one F0 conv; keep 1")
        if self.n_speakers < 1:
            raise ValueError(f"model.n_speakers must be >= 1, got {self.n_speakers}")
        if self.token_embedding_size % self.num_heads:
            raise ValueError(f"model.token_embedding_size={self.token_embedding_size} must divide by "
                             f"model.num_heads={self.num_heads}")
        if not 0.0 <= self.p_teacher_forcing <= 1.0:
            raise ValueError(f"model.p_teacher_forcing must be in [0, 1], got {self.p_teacher_forcing}")

    @property
    def memory_dim(self) -> int:
        """Width of the decoder's memory per token: text + style + speaker."""
        return self.encoder_embedding_dim + (self.token_embedding_size if self.with_gst else 0) + \
            self.speaker_embedding_dim


MODEL_KEYS = {f.name for f in fields(MellotronModelConfig)}

# hparams.py keys that describe data, training or the machine, not the network: accepted and ignored when an
# official hparams dict is given for a checkpoint.
OFFICIAL_NON_MODEL_KEYS = {
    "epochs", "iters_per_checkpoint", "seed", "dynamic_loss_scaling", "fp16_run", "distributed_run",
    "dist_backend", "dist_url", "cudnn_enabled", "cudnn_benchmark", "ignore_layers", "training_files",
    "validation_files", "text_cleaners", "p_arpabet", "cmudict_path", "max_wav_value", "sampling_rate",
    "filter_length", "hop_length", "win_length", "mel_fmin", "mel_fmax", "f0_min", "f0_max", "harm_thresh",
    "prenet_rms_kernel_size", "use_saved_learning_rate", "learning_rate", "learning_rate_min",
    "learning_rate_anneal", "weight_decay", "grad_clip_thresh", "batch_size",
}


@dataclass
class MellotronDataConfig:
    """Audio, text and F0 settings (hparams.py data/audio values)."""

    training_files: str = "filelists/ljs_audiopaths_text_sid_train_filelist.txt"
    validation_files: str = "filelists/ljs_audiopaths_text_sid_val_filelist.txt"
    text_cleaners: list[str] = field(default_factory=lambda: ["english_cleaners"])
    p_arpabet: float = 1.0
    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    max_wav_value: float = 32768.0
    f0_min: float = 80.0
    f0_max: float = 880.0
    harm_thresh: float = 0.25
    batch_size: int = 32
    num_workers: int = 2

    def __post_init__(self) -> None:
        if self.p_arpabet not in (0.0, 1.0):
            raise ValueError(f"data.p_arpabet must be 1.0 (official: every CMUdict word as phones) or 0.0 (letters "
                             f"only), got {self.p_arpabet}")
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {self.batch_size}")


def default_train() -> TrainerConfig:
    """hparams.py: Adam lr 1e-3, weight decay 1e-6, grad clip 1.0; lr halved every 50k steps down to 1e-5."""
    return TrainerConfig(grad_clip=1.0, optimizer=OptimizerConfig(name="adam", lr=1e-3, weight_decay=1e-6))


@dataclass
class LossConfig:
    guided_attention_weight: float = 0.0
    """weight of the guided-attention penalty (Tachibana et al. 2017); 0 = the official loss. Only the CPU demo
    uses it, to form attention within its step budget"""
    guided_attention_sigma: float = 0.2


@dataclass
class WarmStartConfig:
    checkpoint: str = ""
    """a Mellotron or Tacotron 2 checkpoint (ours or official) to start from; empty = from scratch"""
    ignore_layers: list[str] = field(default_factory=lambda: ["speaker_embedding.weight"])
    """tensors left at their fresh init (hparams.py ignore_layers): a new speaker table by default"""


@dataclass
class MellotronConfig:
    model: MellotronModelConfig = field(default_factory=MellotronModelConfig)
    data: MellotronDataConfig = field(default_factory=MellotronDataConfig)
    train: TrainerConfig = field(default_factory=default_train)
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    speakers: dict[str, int] = field(default_factory=dict)
    """raw speaker id -> model index; filled from the training list when empty and saved with every checkpoint,
    so inference uses the training list's table (hparams.py builds it the same way at every start)"""

    def __post_init__(self) -> None:
        if self.data.n_mel_channels != self.model.n_mel_channels:
            raise ValueError(f"data.n_mel_channels={self.data.n_mel_channels} differs from "
                             f"model.n_mel_channels={self.model.n_mel_channels}")
