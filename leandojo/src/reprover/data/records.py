"""Typed views of LeanDojo Benchmark records, parsed once at the boundary.

Field names follow the released JSON exactly (``traced_tactics``, ``annotated_tactic``, ``def_pos`` ...) so a
reader can hold a record and its dataclass side by side. Parsing errors become :class:`BenchmarkFormatError`
naming the file, the record and the field, instead of a ``KeyError`` deep inside training code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprover.data.errors import BenchmarkFormatError
from reprover.data.positions import Pos, parse_pos

NO_GOALS = "no goals"  # the only closed-proof sentinel in state strings
MARK_START, MARK_END = "<a>", "</a>"


def remove_marks(text: str) -> str:
    """Strip the ``<a>``/``</a>`` identifier marks (annotated tactics, some released generators emit them)."""
    return text.replace(MARK_START, "").replace(MARK_END, "")


@dataclass(frozen=True)
class Premise:
    """One corpus entry. Identity is (path, full_name, start): mutual declarations share code and span."""

    path: str
    full_name: str
    start: Pos
    end: Pos = field(compare=False)
    code: str = field(compare=False, repr=False)
    kind: str = field(compare=False, default="")


@dataclass(frozen=True)
class Provenance:
    """Where an identifier used by a tactic is defined; ``def_pos`` falls inside the premise's span."""

    full_name: str
    def_path: str
    def_pos: Pos
    def_end_pos: Pos | None = None  # Lean 4 releases only


@dataclass(frozen=True)
class TracedTactic:
    """One human tactic step with the goals around it and the premises it names."""

    tactic: str
    annotated_text: str
    provenances: tuple[Provenance, ...]
    state_before: str
    state_after: str

    @property
    def closes_proof(self) -> bool:
        return self.state_after == NO_GOALS


@dataclass(frozen=True)
class TheoremRecord:
    """An element of ``train/val/test.json``; ``traced_tactics`` is empty for term-mode proofs."""

    url: str
    commit: str
    file_path: str
    full_name: str
    start: Pos
    end: Pos
    traced_tactics: tuple[TracedTactic, ...] = field(repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """(file_path, full_name): unique within a release; what proof-search results are keyed by."""
        return (self.file_path, self.full_name)


def _need(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    """Fetch a required field with the expected JSON type, or raise ValueError naming it."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if name not in obj:
        raise ValueError(f"{where}: missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind):
        raise ValueError(f"{where}: field {name!r} should be {kind}, got {value!r:.80}")
    return value


def parse_provenance(obj: dict[str, Any], where: str) -> Provenance:
    end = obj.get("def_end_pos") if isinstance(obj, dict) else None
    return Provenance(
        full_name=_need(obj, "full_name", str, where),
        def_path=_need(obj, "def_path", str, where),
        def_pos=parse_pos(_need(obj, "def_pos", list, where)),
        def_end_pos=parse_pos(end) if end is not None else None,
    )


def parse_traced_tactic(obj: dict[str, Any], where: str) -> TracedTactic:
    annotated = _need(obj, "annotated_tactic", list, where)
    if len(annotated) != 2 or not isinstance(annotated[0], str) or not isinstance(annotated[1], list):
        raise ValueError(f"{where}: annotated_tactic must be [marked text, provenance list], got {annotated!r:.80}")
    provenances = tuple(parse_provenance(p, f"{where} provenance {i}") for i, p in enumerate(annotated[1]))
    state_before = _need(obj, "state_before", str, where)
    if "⊢" not in state_before:
        raise ValueError(f"{where}: state_before has no '⊢' goal: {state_before!r:.80}")
    return TracedTactic(
        tactic=_need(obj, "tactic", str, where),
        annotated_text=annotated[0],
        provenances=provenances,
        state_before=state_before,
        state_after=_need(obj, "state_after", str, where),
    )


def parse_theorem(obj: dict[str, Any], path: object, index: int) -> TheoremRecord:
    """Parse theorem ``index`` of split file ``path``; any problem is a BenchmarkFormatError."""
    where = f"theorem #{index}"
    try:
        name = _need(obj, "full_name", str, where)
        where = f"theorem #{index} ({name})"
        tactics = _need(obj, "traced_tactics", list, where)
        return TheoremRecord(
            url=_need(obj, "url", str, where),
            commit=_need(obj, "commit", str, where),
            file_path=_need(obj, "file_path", str, where),
            full_name=name,
            start=parse_pos(_need(obj, "start", list, where)),
            end=parse_pos(_need(obj, "end", list, where)),
            traced_tactics=tuple(parse_traced_tactic(t, f"{where} tactic {i}") for i, t in enumerate(tactics)),
        )
    except ValueError as err:
        raise BenchmarkFormatError(path, str(err), "Fix or regenerate this record; the format is LeanDojo "
                                   "Benchmark's") from None


def theorem_to_json(thm: TheoremRecord) -> dict[str, Any]:
    """The released JSON form of a record (inverse of :func:`parse_theorem`), used when writing splits."""
    def prov(p: Provenance) -> dict[str, Any]:
        out: dict[str, Any] = {"full_name": p.full_name, "def_path": p.def_path, "def_pos": list(p.def_pos)}
        if p.def_end_pos is not None:
            out["def_end_pos"] = list(p.def_end_pos)
        return out

    return {
        "url": thm.url, "commit": thm.commit, "file_path": thm.file_path, "full_name": thm.full_name,
        "start": list(thm.start), "end": list(thm.end),
        "traced_tactics": [
            {"tactic": t.tactic, "annotated_tactic": [t.annotated_text, [prov(p) for p in t.provenances]],
             "state_before": t.state_before, "state_after": t.state_after}
            for t in thm.traced_tactics
        ],
    }
