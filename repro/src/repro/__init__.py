"""Shared toolkit for the nine reproductions in this repository.

Each subpackage holds one concern that several papers need (see ``design.md``): ``repro.train`` the
training runtime, ``repro.audio`` / ``repro.text`` the speech and text front ends, ``repro.data``
datasets and batching, ``repro.metrics`` evaluation, ``repro.viz`` figures.
"""

__version__ = "0.1.0"
