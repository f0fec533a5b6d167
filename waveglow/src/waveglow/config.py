"""WaveGlow configuration: one dataclass per concern (model, data, loss, train), loaded from JSON.

Defaults reproduce the official recipe (NVIDIA/waveglow, config.json at 8afb643). Each field's docstring
names the official key it mirrors, so ``configs/ljs_256.json`` can be checked against config.json line by
line. Cross-field rules (the upsampler is tied to the STFT) are checked in ``WaveGlowConfig.__post_init__``
so a bad combination fails when the file is loaded, not an hour into training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ninerepro.train import OptimizerConfig, TrainerConfig


@dataclass
class WNConfig:
    """The WaveNet-like coupling network inside every flow (official ``waveglow_config.WN_config``)."""

    n_layers: int = 8
    """dilated conv layers per coupling, dilation 2**i (WN_config.n_layers)"""
    n_channels: int = 256
    """residual/gate width; the paper used 512, the released model 256 (WN_config.n_channels)"""
    kernel_size: int = 3
    """dilated conv kernel, must be odd so padding keeps the length (WN_config.kernel_size)"""

    def __post_init__(self) -> None:
        if self.kernel_size % 2 != 1:
            raise ValueError(f"model.wn.kernel_size must be odd, got {self.kernel_size}")
        if self.n_channels % 2 != 0 or self.n_channels < 2:
            raise ValueError(f"model.wn.n_channels must be a positive even number, got {self.n_channels}")
        if self.n_layers < 1:
            raise ValueError(f"model.wn.n_layers must be >= 1, got {self.n_layers}")


@dataclass
class WaveGlowModelConfig:
    """Flow sizes (official ``waveglow_config``) plus the upsampler geometry glow.py hard-codes."""

    n_mel_channels: int = 80
    """mel bins of the conditioning input (waveglow_config.n_mel_channels)"""
    n_flows: int = 12
    """flow steps, each an invertible 1x1 conv plus an affine coupling (waveglow_config.n_flows)"""
    n_group: int = 8
    """audio samples squeezed into one vector (waveglow_config.n_group)"""
    n_early_every: int = 4
    """every this many flows, n_early_size channels leave as part of z (waveglow_config.n_early_every)"""
    n_early_size: int = 2
    """channels output early each time (waveglow_config.n_early_size)"""
    wn: WNConfig = field(default_factory=WNConfig)
    """coupling network sizes (waveglow_config.WN_config)"""
    upsample_kernel: int = 1024
    """ConvTranspose1d kernel; glow.py hard-codes 1024 = filter_length (n_fft); must equal data.filter_length"""
    upsample_stride: int = 256
    """ConvTranspose1d stride; glow.py hard-codes 256 = hop_length; must equal data.hop_length"""
    upsample_init: str = "default"
    """"default": torch's seeded random init, as glow.py. "linear": each mel bin feeds only itself through a
    triangle that interpolates linearly between neighbouring frames (one hop late), bias 0. Ours, for a
    frozen upsampler (config ``freeze``): a random frozen one mixes the frames with weights that change with
    each sample's phase in the hop, which the small demo WN learns to undo only slowly"""

    def __post_init__(self) -> None:
        if self.n_group % 2 != 0 or self.n_group < 2:
            raise ValueError(f"model.n_group must be a positive even number, got {self.n_group}")
        if self.n_flows < 1 or self.n_early_every < 1 or self.n_early_size < 0:
            raise ValueError("model.n_flows and model.n_early_every must be >= 1, model.n_early_size >= 0")
        if self.n_early_size % 2 != 0:
            raise ValueError(f"model.n_early_size must be even (half leaves each half), got {self.n_early_size}")
        n_early_exits = (self.n_flows - 1) // self.n_early_every
        if self.n_group - n_early_exits * self.n_early_size < 2:
            raise ValueError(
                f"model: n_group={self.n_group} leaves fewer than 2 channels after {n_early_exits} early exits "
                f"of n_early_size={self.n_early_size}; raise n_group or n_early_every, or lower n_early_size"
            )
        if self.upsample_stride % self.n_group != 0:
            raise ValueError(
                f"model.upsample_stride={self.upsample_stride} must be a multiple of n_group={self.n_group} "
                "so every mel frame becomes whole groups of samples"
            )
        if self.upsample_kernel < self.upsample_stride:
            raise ValueError("model.upsample_kernel must be >= model.upsample_stride")
        if self.upsample_init not in ("default", "linear"):
            raise ValueError(f"model.upsample_init must be 'default' or 'linear', got {self.upsample_init!r}")
        if self.upsample_init == "linear" and self.upsample_kernel < 2 * self.upsample_stride:
            raise ValueError("model.upsample_init='linear' needs upsample_kernel >= 2 * upsample_stride")


@dataclass
class WaveGlowDataConfig:
    """Audio and mel settings (official ``data_config``) plus the batch size (official train_config)."""

    training_files: str = "filelists/ljs_audio_text_train_filelist.txt"
    """filelist of training wavs (data_config.training_files)"""
    validation_files: str = ""
    """filelist for validation NLL and audio samples; the official repo has no validation loop"""
    sampling_rate: int = 22050
    """Hz; wavs at any other rate are an error (data_config.sampling_rate)"""
    segment_length: int = 16000
    """random crop per clip per step, in samples; shorter clips are zero-padded (data_config.segment_length)"""
    filter_length: int = 1024
    """STFT n_fft (data_config.filter_length)"""
    hop_length: int = 256
    """STFT hop (data_config.hop_length)"""
    win_length: int = 1024
    """STFT window (data_config.win_length)"""
    mel_fmin: float = 0.0
    """lowest mel filter edge in Hz (data_config.mel_fmin)"""
    mel_fmax: float = 8000.0
    """highest mel filter edge in Hz (data_config.mel_fmax)"""
    max_wav_value: float = 32768.0
    """int16 full scale; wavs are divided by it (mel2samp.py MAX_WAV_VALUE)"""
    batch_size: int = 12
    """clips per optimizer step on each GPU (train_config.batch_size; the paper used 3 per GPU x 8)"""
    num_workers: int = 2
    """DataLoader worker processes (official train.py uses 1)"""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {self.batch_size}")
        if self.segment_length < self.hop_length:
            raise ValueError(f"data.segment_length={self.segment_length} is below one hop ({self.hop_length})")
        if self.win_length > self.filter_length:
            raise ValueError(f"data.win_length={self.win_length} exceeds data.filter_length={self.filter_length}")


@dataclass
class WaveGlowLossConfig:
    """Negative log-likelihood settings (official ``train_config.sigma``)."""

    sigma: float = 1.0
    """std of the Gaussian prior on z during training (train_config.sigma)"""

    def __post_init__(self) -> None:
        if self.sigma <= 0:
            raise ValueError(f"loss.sigma must be > 0, got {self.sigma}")


def _official_train() -> TrainerConfig:
    """The official recipe in ninerepro.train terms (train_config of config.json)."""
    return TrainerConfig(
        max_steps=580_000,  # paper: 580k iterations (the official script loops for 100000 epochs instead)
        precision="auto",  # train_config.fp16_run=true; auto = bf16 where supported, else fp16 + GradScaler
        seed=1234,  # train_config.seed
        ckpt_every=2000,  # train_config.iters_per_checkpoint
        grad_clip=0.0,  # the official train.py does not clip
        optimizer=OptimizerConfig(name="adam", lr=1e-4),  # train_config.learning_rate, torch Adam defaults
    )


@dataclass
class WaveGlowConfig:
    """Everything one WaveGlow run needs; ``configs/*.json`` load into this via ninerepro.train.load_config."""

    model: WaveGlowModelConfig = field(default_factory=WaveGlowModelConfig)
    data: WaveGlowDataConfig = field(default_factory=WaveGlowDataConfig)
    loss: WaveGlowLossConfig = field(default_factory=WaveGlowLossConfig)
    train: TrainerConfig = field(default_factory=_official_train)
    freeze: list[str] = field(default_factory=list)
    """parameter-name prefixes kept at their seeded initial values while training (ours, not the official's;
    e.g. ``["upsample."]``: the demo's pretrained asset then need not store the upsampler, which is rebuilt
    from the seed; see ``demo_assets/README.md``)"""

    def __post_init__(self) -> None:
        m, d = self.model, self.data
        if m.upsample_kernel != d.filter_length or m.upsample_stride != d.hop_length:
            raise ValueError(
                f"model.upsample_kernel/stride ({m.upsample_kernel}/{m.upsample_stride}) must equal "
                f"data.filter_length/hop_length ({d.filter_length}/{d.hop_length}): the upsampler turns one mel "
                "frame into hop_length samples; set them equal"
            )
