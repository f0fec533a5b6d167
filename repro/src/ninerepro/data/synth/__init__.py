"""Embedded speech corpora synthesised with eSpeak NG in the exact on-disk layouts of LJSpeech, LibriTTS,
LibriSpeech and Google Speech Commands, so demos and tests run the real data pipeline offline.

Run ``python -m ninerepro.data.synth <kind> --out DIR --n N --seed S``; see :mod:`ninerepro.data.synth.cli`.
"""

from ninerepro.data.synth.text_source import sentences

__all__ = ["sentences"]
