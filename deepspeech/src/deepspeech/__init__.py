"""Deep Speech 1 and 2: end-to-end CTC speech recognition (Hannun et al. 2014; Amodei et al. 2016).

Public entry points: ``deepspeech.infer.Transcriber`` (checkpoint -> text), ``deepspeech.model.build_model``,
``deepspeech.decode.BeamSearchDecoder`` and ``deepspeech.ngram`` (ARPA LMs in pure Python).
"""

__version__ = "0.1.0"
