"""Deep Speech configuration: one dataclass per concern (features, model, data, decoder, train).

Defaults are the Deep Speech 2 English model of the paper where it fixes a value (arXiv 1512.02595, §3),
deepspeech.pytorch's where the paper leaves it open (window, normalisation). Every field says where its
value comes from. Cross-field rules live in ``__post_init__`` so a bad file fails when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ninerepro.train import TrainerConfig

# (channels, (freq kernel, time kernel), (freq stride, time stride)) per layer: DS2 Table 4 (§3.5).
# 1D variants convolve over time only (the frequency axis is the input channels), so freq entries are 0.
CONV_VARIANTS: dict[str, list[tuple[int, tuple[int, int], tuple[int, int]]]] = {
    "1d-1": [(1280, (0, 11), (0, 2))],
    "1d-2": [(640, (0, 5), (0, 1)), (640, (0, 5), (0, 2))],
    "1d-3": [(512, (0, 5), (0, 1)), (512, (0, 5), (0, 1)), (512, (0, 5), (0, 2))],
    "2d-1": [(32, (41, 11), (2, 2))],
    "2d-2": [(32, (41, 11), (2, 2)), (32, (21, 11), (2, 1))],
    "2d-3": [(32, (41, 11), (2, 2)), (32, (21, 11), (2, 1)), (96, (21, 11), (2, 1))],
}


@dataclass
class FeatureConfig:
    """Acoustic front end (ninerepro.audio.ds2_spectrogram, ninerepro.audio.stack_context)."""

    sample_rate: int = 16000
    """Hz; audio at another rate is refused unless the caller asks for resampling (DS2 §3.1 uses 16 kHz)"""
    window_size: float = 0.02
    """seconds; 20 ms windows (DS2 §3.1; deepspeech.pytorch SpectConfig.window_size)"""
    window_stride: float = 0.01
    """seconds; 10 ms hop (deepspeech.pytorch SpectConfig.window_stride)"""
    normalize: bool = True
    """per-utterance zero mean / unit variance of the log spectrogram (deepspeech.pytorch loader)"""
    context: int = 9
    """DS1 only: frames of context C on each side of frame t (DS1 §2: C in {5, 7, 9}; Mozilla uses 9)"""

    @property
    def n_bins(self) -> int:
        """Linear-frequency bins of the spectrogram: n_fft / 2 + 1 (161 at 16 kHz, 20 ms)."""
        return round(self.sample_rate * self.window_size) // 2 + 1

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.window_size <= 0 or self.window_stride <= 0:
            raise ValueError("features.sample_rate, window_size and window_stride must be positive")
        if self.context < 0:
            raise ValueError(f"features.context must be >= 0, got {self.context}")


@dataclass
class ModelConfig:
    """Network shape. ``arch`` picks DS1 (dense + one shared-input bidirectional RNN) or DS2 (conv + RNN stack)."""

    arch: Literal["ds1", "ds2"] = "ds2"
    """ds1 = Hannun et al. 2014 §2; ds2 = Amodei et al. 2016 §3"""
    vocab: str = "english"
    """character set (ninerepro.text.CharVocab): "english" = blank + space, apostrophe, a-z; "deepspeech_pytorch" =
    its label order; "cmn:<characters>" = a Mandarin character vocabulary saved inline (deepspeech.mandarin.text;
    "file:<vocab.txt>" is turned into that form before training, so every checkpoint carries its alphabet)"""
    conv: str = "2d-2"
    """DS2 convolution stack, a key of CONV_VARIANTS (DS2 Table 4); ignored by ds1"""
    conv_channels: list[int] = field(default_factory=list)
    """override the variant's channels per conv layer (same count as its layers); empty = the paper's"""
    rnn_type: Literal["gru", "rnn", "lstm"] = "gru"
    """recurrent cell (DS2 Table 3 compares rnn and gru; deepspeech.pytorch defaults to lstm)"""
    bidirectional: bool = True
    """bidirectional RNNs sum their two directions (DS1 §2, deepspeech.pytorch); False adds row convolution"""
    n_layers: int = 5
    """recurrent layers, 1-7 (DS2 Tables 1, 3); ds1 always has exactly one"""
    hidden: int = 1024
    """units per recurrent layer (and per dense layer in ds1: 2048 in DS1 §5)"""
    lookahead: int = 20
    """row convolution future context tau for unidirectional DS2 (DS2 §3.7; deepspeech.pytorch default 20)"""
    fc_hidden: int = 0
    """DS2: width of a clipped-ReLU dense layer before the output; 0 = sequence BN + linear output (dsp)"""
    dropout: float = 0.0
    """dropout on feed-forward layers only, never recurrent connections (DS1 §2.1: 5-10 %)"""
    clip: float = 20.0
    """clipped ReLU ceiling g(z) = min(max(z, 0), clip) (DS1 §2, DS2 §3)"""

    def __post_init__(self) -> None:
        if self.vocab not in ("english", "deepspeech_pytorch") and not self.vocab.startswith(("cmn:", "file:")):
            raise ValueError(f"model.vocab={self.vocab[:40]!r} is not 'english', 'deepspeech_pytorch', "
                             "'cmn:<characters>' or 'file:<vocab.txt>'")
        if self.arch == "ds2" and self.conv not in CONV_VARIANTS:
            raise ValueError(f"model.conv={self.conv!r} is not one of {sorted(CONV_VARIANTS)} (DS2 Table 4)")
        if self.conv_channels and len(self.conv_channels) != len(CONV_VARIANTS.get(self.conv, [])):
            raise ValueError(f"model.conv_channels={self.conv_channels} needs one entry per layer of {self.conv!r}")
        if self.arch == "ds2" and not 1 <= self.n_layers <= 7:
            raise ValueError(f"model.n_layers must be 1..7 for ds2 (DS2 §3), got {self.n_layers}")
        if self.hidden < 1 or self.fc_hidden < 0 or self.lookahead < 0:
            raise ValueError("model.hidden must be >= 1, model.fc_hidden and model.lookahead >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class AugmentConfig:
    """Training-time augmentation; all off by default so evaluation and tests are deterministic."""

    noise_prob: float = 0.0
    """chance an utterance gets noise superposed (DS2 §5.2: 40 % of utterances; dsp noise_prob 0.4)"""
    noise_dir: str = ""
    """folder of .wav noise clips; empty = coloured noise synthesised on the fly (ninerepro.data.synth.noise)"""
    snr_db: tuple[float, float] = (0.0, 30.0)
    """SNR drawn uniformly from this range for each noisy utterance"""
    speed_prob: float = 0.0
    """chance of speed perturbation (dsp tempo range 0.85-1.15)"""
    speed_range: tuple[float, float] = (0.9, 1.1)
    """speed factor drawn uniformly from this range"""
    spec_augment: bool = False
    """SpecAugment masks on the spectrogram (dsp LibriSpeech recipe: one freq mask <= 27, one time mask <= 70)"""
    freq_width: int = 27
    time_width: int = 70

    def __post_init__(self) -> None:
        for name in ("noise_prob", "speed_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"data.augment.{name} must be in [0, 1], got {value}")
        if self.speed_range[0] <= 0 or self.speed_range[0] > self.speed_range[1]:
            raise ValueError(f"data.augment.speed_range must be 0 < low <= high, got {self.speed_range}")


@dataclass
class DataConfig:
    """Manifests (JSON lines: audio_filepath, duration, text) and batching."""

    train_manifest: str = ""
    """JSON-lines manifest from `python -m ninerepro.data.prepare librispeech` or ninerepro.data.synth"""
    val_manifest: str = ""
    """held-out manifest for validation WER/CER; empty = no validation"""
    batch_size: int = 32
    """utterances per batch per rank (DS2 §3.1 uses 512 over all GPUs; dsp 64)"""
    sortagrad: bool = True
    """first epoch in ascending length order, then shuffled length buckets (DS2 §3.3)"""
    bucket_size_multiplier: int = 100
    """a bucket holds this many batches, sorted by length inside (ninerepro.data.sampler)"""
    max_duration: float = 0.0
    """seconds; longer training utterances are dropped (0 = keep all; avoids running out of memory late in an epoch)"""
    num_workers: int = 2
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {self.batch_size}")
        if self.max_duration < 0:
            raise ValueError(f"data.max_duration must be >= 0, got {self.max_duration}")


@dataclass
class DecoderConfig:
    """CTC decoding: greedy, or prefix beam search scored Q = log p_ctc + alpha log p_lm + beta |words|."""

    beam_width: int = 100
    """prefixes kept per frame (DS1 §2.2 uses 1,000-8,000; pyctcdecode/ctcdecode default 100)"""
    alpha: float = 0.5
    """LM weight (DS2 §3.8); tune per model with deepspeech-tune"""
    beta: float = 1.0
    """word insertion bonus (DS2 §3.8)"""
    cutoff_top_n: int = 40
    """consider at most this many characters per frame (DS2 §7.3: max 40)"""
    cutoff_prob: float = 0.99
    """...and only the most likely ones whose cumulative probability reaches this (DS2 §7.3: 0.99)"""
    lm_path: str = ""
    """ARPA n-gram LM (.arpa, .arpa.gz; KenLM binary with the flashlight decoder); empty = no LM"""
    kind: Literal["flashlight", "reference"] = "flashlight"
    """LM beam search: flashlight-text's KenLM decoder (fast, lexicon = the LM's words), or our pure-Python
    prefix beam search (decode.py, the reference it is tested against; open vocabulary)"""
    lexicon_path: str = ""
    """flashlight only: word list to decode with (needed for a KenLM binary); empty = the ARPA's unigrams"""
    beam_threshold: float = 0.0
    """flashlight only: per frame, drop hypotheses scoring more than this (natural-log units of Q) below the
    frame's best before the beam_width cut (flashlight's ``beam_threshold``; torchaudio's default is 50).
    0 = no score pruning, the exact beam the reference decoder also keeps. A search shortcut: it changes
    speed, and may change the answer; README "Decoding speed" measures both"""

    def __post_init__(self) -> None:
        if self.beam_width < 1 or self.cutoff_top_n < 1:
            raise ValueError("decoder.beam_width and decoder.cutoff_top_n must be >= 1")
        if self.beam_threshold < 0:
            raise ValueError(f"decoder.beam_threshold must be >= 0 (0 = no score pruning), got {self.beam_threshold}")
        if not 0.0 < self.cutoff_prob <= 1.0:
            raise ValueError(f"decoder.cutoff_prob must be in (0, 1], got {self.cutoff_prob}")


@dataclass
class DeepSpeechConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    train: TrainerConfig = field(default_factory=TrainerConfig)
    loss_reduction: Literal["mean_utterance", "sum"] = "mean_utterance"
    """CTC loss per batch: summed over utterances then divided by their number, or summed (dsp)"""
    epochs: float = 0.0
    """> 0: train.max_steps = ceil(epochs x steps per epoch), one step per global batch of data.batch_size x
    GPUs x train.grad_accum utterances, so any GPU count trains the same number of epochs (DS2 §3.1: 20);
    the derivation is printed at start. 0 = train.max_steps as given"""
    validations_per_epoch: int = 0
    """> 0 (with epochs): train.val_every and train.ckpt_every become steps per epoch / this; 0 = as given"""

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.validations_per_epoch < 0:
            raise ValueError("epochs and validations_per_epoch must be >= 0")
        if self.validations_per_epoch and not self.epochs:
            raise ValueError("validations_per_epoch needs epochs > 0 (it divides an epoch's steps)")
