"""Microphone capture for crnn-kws-listen, only when the optional ``sounddevice`` finds an input device."""

from __future__ import annotations

import numpy as np

RECORD_S = 5.0


def record(sample_rate: int, seconds: float = RECORD_S) -> np.ndarray:
    """``seconds`` of mono float32 audio from the default input; a clear error when there is none."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as e:
        raise ValueError(f"mic: sounddevice is unavailable ({e}); `pip install -e './crnn-kws[mic]'` from the "
                         "repository root, or pass a wav file / '-' for stdin") from None
    try:
        sd.check_input_settings(channels=1, samplerate=sample_rate)
        audio = sd.rec(int(seconds * sample_rate), samplerate=sample_rate, channels=1, dtype="float32")
        sd.wait()
    except Exception as e:  # PortAudio raises its own error types when no device exists
        raise ValueError(f"mic: no usable input device at {sample_rate} Hz ({e}); pass a wav file instead") from None
    return np.ascontiguousarray(audio[:, 0])
