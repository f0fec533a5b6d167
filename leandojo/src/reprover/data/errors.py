"""The one exception type for malformed benchmark data, so callers can catch bad input in one place."""

from __future__ import annotations


class BenchmarkFormatError(ValueError):
    """A benchmark file breaks the LeanDojo Benchmark format; the message names the file, line and fix."""

    def __init__(self, path: object, problem: str, fix: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}. {fix}")
        self.path = path
        self.line = line
