"""Markdown tables: exact text, column order, alignment, missing cells and escaping."""

import math

import numpy as np
import pytest

from ninerepro.viz import format_cell, markdown_table


def test_markdown_table_exact_text():
    rows = [
        {"model": "ours", "wer": 0.12345, "steps": 100},
        {"model": "paper", "wer": 0.5},
    ]
    expected = [
        "| model |   wer | steps |",
        "| ----- | ----: | ----: |",
        "| ours  | 0.123 |   100 |",
        "| paper | 0.500 |       |",
    ]
    assert markdown_table(rows) == "\n".join(expected)


def test_explicit_columns_pick_and_order_and_floatfmt_applies():
    rows = [{"a": 1.0, "b": "x|y", "c": True}]
    expected = [
        "| c    | b    |   a |",
        "| ---- | ---- | --: |",
        "| True | x\\|y | 1.0 |",
    ]
    assert markdown_table(rows, columns=["c", "b", "a"], floatfmt=".1f") == "\n".join(expected)


def test_cells_format_numpy_nan_and_none():
    assert format_cell(np.float32(0.25), ".2f") == "0.25"
    assert format_cell(np.int64(7)) == "7"
    assert format_cell(math.nan) == "nan"
    assert format_cell(None) == ""


def test_a_column_in_no_row_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"columns \['wer'\] appear in no row"):
        markdown_table([{"cer": 0.1}], columns=["wer"])


def test_no_rows_and_no_columns_is_an_error():
    with pytest.raises(ValueError, match="no columns"):
        markdown_table([])


def test_no_rows_with_columns_gives_just_the_header():
    assert markdown_table([], columns=["a"]) == "| a   |\n| --- |"
