"""Exceptions raised at the audio boundary.

They subclass ``ValueError`` so callers that already catch bad-value errors keep working, while the
message always names the offending file and what to do about it.
"""

from __future__ import annotations


class AudioFileError(ValueError):
    """An audio file is missing, empty, corrupt or in a format soundfile cannot read."""


class SampleRateError(ValueError):
    """An audio file (or array) is at a different sample rate than the caller requires.

    We never resample silently inside a loader: a corpus at the wrong rate would train a model on
    shifted spectra without any visible failure. The message says how to convert the file instead.
    """
