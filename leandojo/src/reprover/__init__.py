"""ReProver on LeanDojo Benchmark: data I/O, proof environments, retrieval, generation and proof search.

Subpackages: :mod:`reprover.data` (benchmark format, corpus, accessibility, splits),
:mod:`reprover.env` (the Dojo interface with a replay and a real Lean backend), :mod:`reprover.search`
(best-first proof search, Pass@1 evaluation), :mod:`reprover.retrieval` and :mod:`reprover.generation`
(premise retriever and tactic generator).
"""

__version__ = "0.1.0"
