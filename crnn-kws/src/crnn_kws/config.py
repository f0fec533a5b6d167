"""CRNN keyword-spotting configuration: one dataclass per concern (features, model, data, eval, train).

Defaults are the model the paper chose (Arik et al. 2017, arXiv:1703.05390, Table 1 / §3.1); where the paper
leaves a value open (STFT window, PCEN constants, smoothing), the field says what we picked and why. Cross-field
rules live in ``__post_init__`` so a bad file fails when it is loaded, naming the key and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from ninerepro.train import TrainerConfig


@dataclass
class FeatureConfig:
    """Front end: 40 mel channels at a 10 ms hop over a 1.5 s window, PCEN-normalised (paper §2.1, §3.1)."""

    kind: Literal["pcen", "logmel"] = "pcen"
    """pcen = per-channel energy normalisation (the paper's choice); logmel = the baseline front end"""
    sample_rate: int = 16000
    """Hz; other rates are refused at load time (paper §3.1: 16 kHz)"""
    window_s: float = 1.5
    """seconds per decision window T (paper §3.1); 1.5 s at a 10 ms hop is 151 frames"""
    hop: int = 160
    """samples between frames: 10 ms (paper §2.1)"""
    n_fft: int = 480
    """STFT window in samples: 30 ms (not given by the paper; 20-30 ms is typical for KWS)"""
    n_mels: int = 40
    """mel channels (paper §3.1)"""
    pcen_s: float = 0.025
    """PCEN smoother coefficient (Wang et al. 2017 defaults, ninerepro.audio.PCEN)"""
    pcen_alpha: float = 0.98
    pcen_delta: float = 2.0
    pcen_r: float = 0.5
    mel_scale: float = 32768.0**2
    """energies are multiplied by this before PCEN: PCEN's delta=2 assumes int16-scale power, not [-1, 1] audio"""

    @property
    def window_samples(self) -> int:
        return round(self.window_s * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Centred frames per window: 1 + samples // hop (151 for the paper's setting)."""
        return 1 + self.window_samples // self.hop

    @property
    def hop_s(self) -> float:
        return self.hop / self.sample_rate

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.hop <= 0 or self.n_fft < self.hop or self.n_mels <= 0:
            raise ValueError("features: need sample_rate, hop, n_mels > 0 and n_fft >= hop")
        if self.window_samples <= self.n_fft // 2:
            raise ValueError(f"features.window_s={self.window_s} is shorter than half an STFT window; use >= 0.1")


@dataclass
class ModelConfig:
    """Conv2d -> R recurrent layers -> dense over the flattened recurrent output -> softmax (paper §2.1, Fig. 1)."""

    n_filters: int = 32
    """C: convolution filters (Table 1)"""
    kernel_t: int = 20
    """L_T: kernel length along time, in frames (Table 1)"""
    kernel_f: int = 5
    """L_F: kernel length along frequency, in channels (Table 1)"""
    stride_t: int = 8
    """S_T: stride along time (Table 1)"""
    stride_f: int = 2
    """S_F: stride along frequency (Table 1)"""
    padding: Literal["same", "valid"] = "same"
    """'same' (TensorFlow-style) is the only reading that gives the paper's 229k parameters (spec §9)"""
    rnn: Literal["gru", "lstm"] = "gru"
    """recurrent cell; the paper found GRU >= LSTM at this size (§3.2)"""
    rnn_layers: int = 2
    """R (Table 1)"""
    rnn_units: int = 32
    """N_R: units per direction (Table 1)"""
    bidirectional: bool = True
    """the paper's model is bidirectional; False gives the variant that streams with carried state"""
    dense_units: int = 64
    """N_F: the dense layer reads the whole flattened recurrent output (spec §9)"""
    n_classes: int = 2
    """2 = keyword / not (the paper); 12 = the Speech Commands task"""
    dropout: float = 0.0
    """dropout before the dense layer (not in the paper; 0 keeps it out)"""

    def __post_init__(self) -> None:
        for name in ("n_filters", "kernel_t", "kernel_f", "stride_t", "stride_f", "rnn_layers", "rnn_units",
                     "dense_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_classes < 2:
            raise ValueError(f"model.n_classes must be >= 2, got {self.n_classes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class DataConfig:
    """Training windows: aligned positives, speech and noise negatives, additive noise (paper §3.1)."""

    task: Literal["wake_word", "speech_commands"] = "wake_word"
    """wake_word: binary windows from a ``crnn_kws.corpus`` folder; speech_commands: the 12-class task on a
    Google Speech Commands v2 folder (``crnn_kws.commands``), which needs model.n_classes = 12"""
    corpus: str = ""
    """folder written by ``crnn_kws.corpus`` (positives/, confusables/, LibriSpeech/, noise/), or the Speech
    Commands folder when task = speech_commands"""
    max_speech_files: int = 0
    """read at most this many LibriSpeech utterances per split, evenly spread over the sorted list (0 = all):
    train-clean-100 is 23 GB as float32, more than a training host should hold for negatives"""
    batch_size: int = 64
    """paper §3.1"""
    positive_fraction: float = 0.5
    """class balancing: the share of keyword windows in each batch (the raw data is mostly negatives)"""
    confusable_fraction: float = 0.3
    """share of negatives that hold a confusable phrase; the rest are speech or noise crops"""
    snr_min_db: float = -5.0
    """additive noise SNR range, dB (paper §3.1: -5 ... 15)"""
    snr_max_db: float = 15.0
    noise_probability: float = 0.9
    """share of windows that get additive noise"""
    jitter_s: float = 0.1
    """random shift of the keyword end inside the window, against alignment errors (paper §3.1)"""
    spec_augment: bool = False
    """SpecAugment-style masks on the features (optional; not in the paper)"""
    freq_width: int = 5
    time_width: int = 15
    epoch_windows: int = 6400
    """windows per epoch: the loader draws windows at random, so an epoch is only a bookkeeping unit"""

    def __post_init__(self) -> None:
        if not 0.0 < self.positive_fraction < 1.0:
            raise ValueError(f"data.positive_fraction must be in (0, 1), got {self.positive_fraction}")
        if self.snr_min_db > self.snr_max_db:
            raise ValueError(f"data.snr_min_db {self.snr_min_db} > data.snr_max_db {self.snr_max_db}")
        if self.max_speech_files < 0:
            raise ValueError(f"data.max_speech_files must be >= 0 (0 = all), got {self.max_speech_files}")
        if self.batch_size < 1 or self.epoch_windows < self.batch_size:
            raise ValueError("data.batch_size must be >= 1 and data.epoch_windows >= data.batch_size")


@dataclass
class EvalConfig:
    """The false-alarm rule (see ``crnn_kws.metrics``) and the operating point."""

    hop_frames: int = 8
    """feature frames between decisions while streaming: 80 ms, within the paper's 'longer than the
    spectrogram stride, shorter than ~100 ms' (§3.1); equal to the conv time stride so windows align"""
    smooth_window: int = 3
    """decisions averaged into the smoothed score s[t] (240 ms at an 80 ms hop)"""
    refractory_s: float = 1.5
    """lockout after a fired alarm: one window, so one keyword is one alarm (spec §5.4: merge triggers
    closer than about one window)"""
    target_fa_per_hour: float = 0.5
    """paper §3: FRR is reported at 0.5 FA/h"""
    snrs_db: list[float] = field(default_factory=lambda: [5.0, 10.0, 20.0])
    """test noise conditions (paper Table 3)"""
    n_thresholds: int = 1001
    """points of the threshold grid for the DET curve and the operating point"""
    min_logit: float = -12.0
    """the grid is even on the logit scale, sigmoid(linspace(min_logit, max_logit)): a trained detector's
    posteriors crowd near 0 and 1, where an even grid on [0, 1] cannot tell 0.9999 from 0.99999999"""
    max_logit: float = 30.0
    """scores are float64 posteriors, which resolve 1 - p down to ~1e-16 (logit ~36); at 30 grid steps of
    0.05 logit still differ by far more than one float64 spacing"""

    def refractory_steps(self, hop_s: float) -> int:
        return math.ceil(self.refractory_s / (self.hop_frames * hop_s) - 1e-9)

    def __post_init__(self) -> None:
        if self.hop_frames < 1 or self.smooth_window < 1 or self.n_thresholds < 2:
            raise ValueError("eval.hop_frames and eval.smooth_window must be >= 1, eval.n_thresholds >= 2")
        if not self.min_logit < self.max_logit <= 30.0:
            raise ValueError(f"eval.min_logit {self.min_logit} must be < eval.max_logit {self.max_logit} <= 30 "
                             "(float64 posteriors stop resolving logits a little above 30)")
        if self.target_fa_per_hour < 0:
            raise ValueError(f"eval.target_fa_per_hour must be >= 0, got {self.target_fa_per_hour}")


@dataclass
class KwsConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)

    def __post_init__(self) -> None:
        want = 12 if self.data.task == "speech_commands" else 2
        if self.model.n_classes != want:
            raise ValueError(f"data.task={self.data.task} needs model.n_classes={want}, got {self.model.n_classes}; "
                             "use configs/speech_commands12.json for the 12-class task")
