"""Audio front end shared by the speech papers: file I/O, resampling, Tacotron mel, ASR/KWS features,
F0, augmentation.

Every entry point validates its input (shape, dtype, sample rate) and raises an error that names the
problem and the fix. Torch code takes device and dtype from its inputs, so batches run on a GPU.
"""

from repro.audio.augment import add_noise, random_gain, speed_perturb
from repro.audio.errors import AudioFileError, SampleRateError
from repro.audio.features import ds2_spectrogram, log_mel, mel_energies, stack_context
from repro.audio.filterbank import mel_filterbank
from repro.audio.griffin_lim import griffin_lim, spectral_convergence
from repro.audio.io import load_wav, resample, save_wav
from repro.audio.mel import TacotronSTFT, tacotron_mel
from repro.audio.pcen import PCEN
from repro.audio.pitch import f0_at_mel_rate, pyin, yin
from repro.audio.specaugment import spec_augment
from repro.audio.stft import STFT
from repro.audio.tempo import tempo_perturb

__all__ = [
    "PCEN",
    "STFT",
    "AudioFileError",
    "SampleRateError",
    "TacotronSTFT",
    "add_noise",
    "ds2_spectrogram",
    "f0_at_mel_rate",
    "griffin_lim",
    "load_wav",
    "log_mel",
    "mel_energies",
    "mel_filterbank",
    "pyin",
    "random_gain",
    "resample",
    "save_wav",
    "spec_augment",
    "spectral_convergence",
    "speed_perturb",
    "stack_context",
    "tacotron_mel",
    "tempo_perturb",
    "yin",
]
