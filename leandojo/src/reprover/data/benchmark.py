"""A LeanDojo Benchmark directory: ``corpus.jsonl``, ``metadata.json`` and ``<strategy>/<subset>.json``.

The same reader serves LeanDojo Benchmark (Lean 3) and Benchmark 4: the layout and field names are identical;
only path and name conventions inside the strings differ, and nothing here depends on them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from reprover.data.corpus import Corpus, load_corpus
from reprover.data.errors import BenchmarkFormatError
from reprover.data.records import Premise, TheoremRecord, TracedTactic, parse_theorem

log = logging.getLogger(__name__)

STRATEGIES = ("random", "novel_premises")
SUBSETS = ("train", "val", "test")
DOWNLOAD_HINT = ("download the release with `make data-leandojo` in the repository root (it runs `python -m "
                 "reprover.data.download --root data` and writes <repo>/data/leandojo_benchmark_4, which is "
                 "../data/leandojo_benchmark_4 seen from leandojo/)")


@dataclass(frozen=True)
class Metadata:
    """``metadata.json``: which repository and commit the release was traced from."""

    dataset_name: str
    creation_time: str
    url: str
    commit: str
    leandojo_version: str


def load_metadata(root: str | os.PathLike) -> Metadata:
    path = Path(root) / "metadata.json"
    if not path.is_file():
        raise BenchmarkFormatError(path, "metadata.json not found", f"Is {root} a LeanDojo Benchmark directory? "
                                   f"If not, {DOWNLOAD_HINT}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Metadata(str(data["dataset_name"]), str(data["creation_time"]), str(data["from_repo"]["url"]),
                        str(data["from_repo"]["commit"]), str(data["leandojo_version"]))
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise BenchmarkFormatError(path, f"unreadable metadata ({err!r})", "It needs dataset_name, "
                                   "creation_time, from_repo {url, commit} and leandojo_version") from None


def load_split(root: str | os.PathLike, strategy: str, subset: str) -> list[TheoremRecord]:
    """Read ``root/strategy/subset.json`` (a JSON array of theorem records)."""
    if strategy not in STRATEGIES or subset not in SUBSETS:
        raise ValueError(f"split must be one of {STRATEGIES} and subset one of {SUBSETS}, "
                         f"got {strategy!r}/{subset!r}")
    path = Path(root) / strategy / f"{subset}.json"
    if not path.is_file():
        raise BenchmarkFormatError(path, f"split file missing (strategy {strategy!r}, subset {subset!r})",
                                   f"The benchmark needs {strategy}/{{train,val,test}}.json: {DOWNLOAD_HINT}, "
                                   f"or rebuild the splits with `reprover split --data {root}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BenchmarkFormatError(path, f"invalid JSON ({err.msg})", "Split files are one JSON array; "
                                   "re-download or rebuild it", err.lineno) from None
    if not isinstance(data, list):
        raise BenchmarkFormatError(path, "expected a JSON array of theorem records",
                                   "Split files are JSON arrays, not JSON Lines")
    return [parse_theorem(obj, path, i) for i, obj in enumerate(data)]


class Benchmark:
    """A benchmark directory; the corpus and each split are read on first use and kept."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise BenchmarkFormatError(self.root, "benchmark directory not found", DOWNLOAD_HINT.capitalize())
        self._splits: dict[tuple[str, str], list[TheoremRecord]] = {}

    @cached_property
    def corpus(self) -> Corpus:
        return load_corpus(self.root / "corpus.jsonl")

    @cached_property
    def metadata(self) -> Metadata:
        return load_metadata(self.root)

    def split(self, strategy: str, subset: str) -> list[TheoremRecord]:
        """The theorems of one split; each theorem's file is checked to be in the corpus."""
        key = (strategy, subset)
        if key not in self._splits:
            theorems = load_split(self.root, strategy, subset)
            self.check_files_in_corpus(theorems, self.root / strategy / f"{subset}.json")
            self._splits[key] = theorems
        return self._splits[key]

    def check_files_in_corpus(self, theorems: list[TheoremRecord], source: object) -> None:
        for i, thm in enumerate(theorems):
            if thm.file_path not in self.corpus:
                raise BenchmarkFormatError(source, f"theorem #{i} ({thm.full_name}) is in file "
                                           f"{thm.file_path!r}, which corpus.jsonl does not list",
                                           "Use the corpus.jsonl of the same release as the split files")

    def positive_premises(self, thm: TheoremRecord, tactic: TracedTactic, strict: bool = False) -> list[Premise]:
        """See :func:`positive_premises`."""
        return positive_premises(self.corpus, thm, tactic, strict)


def positive_premises(corpus: Corpus, thm: TheoremRecord, tactic: TracedTactic,
                      strict: bool = False) -> list[Premise]:
    """The corpus premises a tactic names, matched by position (``start <= def_pos <= end``).

    Released data has a few provenances that match nothing (RP logs and drops them); that is the
    default here. ``strict=True`` turns them into an error, which is what fixtures and ``reprover check-data``
    want. Duplicates (one premise named twice) are kept once, in first-use order.
    """
    found: list[Premise] = []
    for prov in tactic.provenances:
        premise = corpus.locate_premise(prov.def_path, prov.def_pos)
        if premise is None:
            problem = (f"theorem {thm.full_name} ({thm.file_path}), tactic {tactic.tactic!r}: provenance "
                       f"{prov.full_name} at {prov.def_path}:{prov.def_pos} matches no premise")
            if strict:
                raise BenchmarkFormatError(corpus.source, problem, "The corpus and the split files must come "
                                           "from the same release; regenerate or re-download both")
            log.warning("%s; dropped", problem)
        elif premise not in found:
            found.append(premise)
    return found
