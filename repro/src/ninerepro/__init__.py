"""Shared toolkit for the nine reproductions in this repository.

Each subpackage holds one concern that several papers need (see ``design.md``): ``ninerepro.train`` the
training runtime, ``ninerepro.audio`` / ``ninerepro.text`` the speech and text front ends, ``ninerepro.data``
datasets and batching, ``ninerepro.metrics`` evaluation, ``ninerepro.viz`` figures.
"""

__version__ = "0.1.0"
