"""The resumable stage store: finished records survive, torn lines are dropped, other settings are refused."""

from __future__ import annotations

import pytest

from ninerepro.lm import JsonlStore, StoreMismatch


def test_records_survive_reopening_and_missing_lists_only_unfinished(tmp_path):
    s = JsonlStore(tmp_path / "s.jsonl", {"model": "m"})
    s.add("q1", {"text": "a"})
    s.add("q2", {"text": "b"})
    again = JsonlStore(tmp_path / "s.jsonl", {"model": "m"})
    assert again.get("q1")["text"] == "a" and again.missing(["q1", "q3", "q2"]) == ["q3"]


def test_a_torn_last_line_is_dropped_and_appending_continues(tmp_path):
    path = tmp_path / "s.jsonl"
    s = JsonlStore(path, {})
    s.add("q1", {"text": "a"})
    with path.open("a") as f:
        f.write('{"id": "q2", "te')
    again = JsonlStore(path, {})
    assert len(again) == 1
    again.add("q2", {"text": "b"})
    assert len(JsonlStore(path, {})) == 2


def test_a_corrupt_middle_line_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "s.jsonl"
    JsonlStore(path, {})
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n')
    with pytest.raises(ValueError, match=r"s\.jsonl:2"):
        JsonlStore(path, {})


def test_reopening_with_other_settings_is_refused_unless_fresh(tmp_path):
    s = JsonlStore(tmp_path / "s.jsonl", {"top_p": 0.9})
    s.add("q1", {})
    with pytest.raises(StoreMismatch, match="top_p"):
        JsonlStore(tmp_path / "s.jsonl", {"top_p": 0.95})
    assert len(JsonlStore(tmp_path / "s.jsonl", {"top_p": 0.95}, fresh=True)) == 0
