"""Audio front end shared by the speech papers: file I/O, resampling, Tacotron mel, ASR/KWS features,
F0, augmentation.

Every entry point validates its input (shape, dtype, sample rate) and raises an error that names the
problem and the fix.
"""

from repro.audio.errors import AudioFileError, SampleRateError
from repro.audio.io import load_wav, resample, save_wav

__all__ = ["AudioFileError", "SampleRateError", "load_wav", "resample", "save_wav"]
