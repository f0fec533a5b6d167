"""LeanDojo Benchmark I/O: records, the premise corpus, accessibility and split builders."""

from reprover.data.benchmark import (
    STRATEGIES,
    SUBSETS,
    Benchmark,
    Metadata,
    load_metadata,
    load_split,
    positive_premises,
)
from reprover.data.corpus import Corpus, CorpusFile, load_corpus
from reprover.data.errors import BenchmarkFormatError
from reprover.data.positions import Pos, parse_pos
from reprover.data.records import (
    NO_GOALS,
    Premise,
    Provenance,
    TheoremRecord,
    TracedTactic,
    remove_marks,
    theorem_to_json,
)

__all__ = [
    "NO_GOALS", "STRATEGIES", "SUBSETS", "Benchmark", "BenchmarkFormatError", "Corpus", "CorpusFile", "Metadata",
    "Pos", "Premise", "Provenance", "TheoremRecord", "TracedTactic", "load_corpus", "load_metadata", "load_split",
    "parse_pos", "positive_premises", "remove_marks", "theorem_to_json",
]
