"""Source positions as LeanDojo writes them: ``[line, column]``, both 1-based, ordered lexicographically."""

from __future__ import annotations

from typing import NamedTuple


class Pos(NamedTuple):
    """A 1-based (line, column) position; tuple ordering is exactly Lean's source order."""

    line: int
    column: int

    def __repr__(self) -> str:
        return f"({self.line}, {self.column})"


def parse_pos(value: object) -> Pos:
    """Turn a JSON ``[line, column]`` pair into a :class:`Pos`; raises ValueError describing the value."""
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"expected a [line, column] pair of integers, got {value!r}")
    if value[0] < 1 or value[1] < 0:
        raise ValueError(f"positions are 1-based [line, column], got {value!r}")
    return Pos(int(value[0]), int(value[1]))
