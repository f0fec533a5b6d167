"""Result tables as Markdown (for READMEs and RESULTS.md) and as PNG images (for reports).

Rows are dicts; columns default to every key in order of first appearance. Cell text: floats with
``floatfmt`` (NaN as ``nan``), ints and bools as written, None or a missing key as an empty cell.
A column whose present values are all numbers is right-aligned (``---:``) so digits line up.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ninerepro.viz._figure import new_figure, save_figure


def _columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        found: dict[str, None] = {}
        for row in rows:
            found.update(dict.fromkeys(row))
        if not found:
            raise ValueError("no columns: pass rows with keys or an explicit columns list")
        return list(found)
    if rows:
        unused = [c for c in columns if all(c not in row for row in rows)]
        if unused:
            raise ValueError(f"columns {unused} appear in no row; the rows have keys {_columns(rows, None)}")
    return list(columns)


def format_cell(value: Any, floatfmt: str = ".3f") -> str:
    """Text of one cell (see the module docstring for the rules)."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format(float(value), floatfmt)
    return str(value)


def _is_numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, floatfmt: str = ".3f"
) -> str:
    """A GitHub-flavoured Markdown table with padded cells, ending without a trailing newline."""
    names = _columns(rows, columns)
    cells = [[_escape(format_cell(row.get(c), floatfmt)) for c in names] for row in rows]
    numeric = [_is_numeric([row.get(c) for row in rows]) for c in names]
    widths = [max([3, len(_escape(c))] + [len(r[i]) for r in cells]) for i, c in enumerate(names)]

    def line(texts: list[str]) -> str:
        padded = [t.rjust(w) if num else t.ljust(w) for t, w, num in zip(texts, widths, numeric)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join("-" * (w - 1) + ":" if num else "-" * w for w, num in zip(widths, numeric)) + " |"
    return "\n".join([line([_escape(c) for c in names]), rule, *(line(r) for r in cells)])


def save_table_png(
    rows: Sequence[Mapping[str, Any]],
    out_png: str | os.PathLike,
    columns: Sequence[str] | None = None,
    floatfmt: str = ".3f",
    title: str | None = None,
) -> Path:
    """Render the same cells as ``markdown_table`` into a PNG image and return its path."""
    names = _columns(rows, columns)
    if not rows:
        raise ValueError("save_table_png needs at least one row")
    cells = [[format_cell(row.get(c), floatfmt) for c in names] for row in rows]
    width = max(4.0, 1.6 * len(names))
    fig = new_figure(width, 0.8 + 0.35 * (len(rows) + 1))
    ax = fig.add_subplot()
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=names, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    for (row_index, _), cell in table.get_celld().items():
        if row_index == 0:
            cell.set_text_props(fontweight="bold")
    if title:
        ax.set_title(title)
    return save_figure(fig, out_png)
