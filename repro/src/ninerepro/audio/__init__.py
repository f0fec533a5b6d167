"""Audio front end shared by the speech papers: file I/O, resampling, Tacotron mel, ASR/KWS features,
F0, augmentation.

Every entry point validates its input (shape, dtype, sample rate) and raises an error that names the
problem and the fix. Torch code takes device and dtype from its inputs, so batches run on a GPU.
"""

from ninerepro.audio.augment import add_noise, random_gain, speed_perturb
from ninerepro.audio.errors import AudioFileError, SampleRateError
from ninerepro.audio.features import ds2_spectrogram, log_mel, mel_energies, stack_context
from ninerepro.audio.filterbank import mel_filterbank
from ninerepro.audio.griffin_lim import griffin_lim, spectral_convergence
from ninerepro.audio.io import load_wav, resample, save_wav
from ninerepro.audio.mel import TacotronSTFT, tacotron_mel
from ninerepro.audio.pcen import PCEN
from ninerepro.audio.pitch import f0_at_mel_rate, pyin, yin
from ninerepro.audio.specaugment import spec_augment
from ninerepro.audio.stft import STFT
from ninerepro.audio.tempo import tempo_perturb

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
