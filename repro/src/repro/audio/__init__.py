"""Audio front end shared by the speech papers: file I/O, resampling, Tacotron mel, ASR/KWS features,
F0, augmentation.

Every entry point validates its input (shape, dtype, sample rate) and raises an error that names the
problem and the fix.
"""

from repro.audio.errors import AudioFileError, SampleRateError
from repro.audio.filterbank import mel_filterbank
from repro.audio.griffin_lim import griffin_lim, spectral_convergence
from repro.audio.io import load_wav, resample, save_wav
from repro.audio.mel import TacotronSTFT, tacotron_mel
from repro.audio.stft import STFT

__all__ = [
    "STFT",
    "AudioFileError",
    "SampleRateError",
    "TacotronSTFT",
    "griffin_lim",
    "load_wav",
    "mel_filterbank",
    "resample",
    "save_wav",
    "spectral_convergence",
    "tacotron_mel",
]
