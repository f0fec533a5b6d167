"""CRNN small-footprint keyword spotting (Arik et al. 2017, arXiv:1703.05390).

Public entry points: ``crnn_kws.build_model(config)`` (the CRNN from a config object or JSON path),
``crnn_kws.metrics`` (the false-alarm rule, FA/h, the operating point), ``crnn_kws.features`` (PCEN / log-mel).
"""

from crnn_kws import metrics
from crnn_kws.model import build_model

__version__ = "0.1.0"
__all__ = ["build_model", "metrics"]
