"""The WoW / WoI readers and the official preprocessing, on fixtures in the exact release formats."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from knowledge_dialogue import download
from knowledge_dialogue.data import (
    DataFormatError,
    Sample,
    process_woi,
    process_wow,
    read_samples,
    read_tsv,
    read_woi,
    read_wow,
    write_tsv,
)

FIX = Path(__file__).parent / "fixtures"


def test_wow_preprocessing_follows_the_official_rules():
    rows = process_wow(read_wow(FIX / "wow_test.json"))
    assert [(r.topic, r.knowledge) for r in rows] == [
        ("Kite", "Kites were invented in China more than 2,000 years ago."),
        ("Silk", "Early kites used silk for the sail and bamboo for the frame."),  # the checked passage's title
        ("Kite", "no_passages_used"),  # no passage: chosen_topic
        ("Tea", "Tea is the most widely consumed drink in the world after water."),  # empty passage: chosen_topic
    ]
    first = rows[0]
    assert first.turns == ("Have you ever flown a kite.", "Only once, as a kid.")  # "." appended; the first turn
    assert first.response == "Kites were first made in China over two thousand years ago!"  # ... is never a target
    assert rows[1].response == "Silk and bamboo mostly." and rows[1].turns[-1] == "What were they made of?"
    assert rows[2].turns[-2] == "Silk and bamboo mostly."  # targets join the history
    assert rows[0].tsv_line().split("\t")[1] == "Have you ever flown a kite. [SEP] Only once, as a kid."


def test_woi_preprocessing_takes_the_last_selected_result_and_skips_unsupported_turns():
    rows = process_woi(read_woi(FIX / "woi_test.jsonl"))
    assert [(r.topic, r.knowledge) for r in rows] == [
        ("danube river length", "The Danube ends in the Black Sea."),  # inner loop breaks, outer does not
        ("danube capitals", "Vienna, Bratislava, Budapest and Belgrade lie on the Danube."),
        ("owl facts", "Owls can rotate their heads 270 degrees."),
    ]
    assert rows[0].response == "It is about 2,850 km longand crosses ten countries."  # tabs removed
    # the flagged "no knowledge" reply is not a target but stays in the history
    assert rows[1].turns[-3:] == ("Which cities does it pass?", "I am not sure, sorry.", "No problem")
    assert rows[2].turns == ("Hi! Want to talk about owls?", "Sure")  # a first wizard turn is history only


def test_tsv_round_trip_and_read_samples_by_suffix(tmp_path):
    rows = process_wow(read_wow(FIX / "wow_test.json"))
    path = write_tsv(tmp_path / "t.tsv", rows)
    assert read_tsv(path) == rows == read_samples(FIX / "wow_test.json")
    assert len(read_samples(FIX / "woi_test.jsonl")) == 3
    (tmp_path / "bad.tsv").write_text("a\tb\tc\td\nonly\ttwo\n")
    with pytest.raises(DataFormatError, match=r"bad.tsv:2: expected 4"):
        read_tsv(tmp_path / "bad.tsv")


def _wow(tmp_path, data) -> Path:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("data, message", [
    ({"dialog": []}, "expected a JSON list of dialogues"),
    ([{"chosen_topic": "x", "dialog": []}], r"dialogue 0: 'dialog' is empty"),
    ([{"chosen_topic": "x", "dialog": [{"speaker": "0_Wizard", "text": "hi"}]}, {"dialog": []}],
     r"dialogue 1: 'chosen_topic' must be a string"),
    ([{"chosen_topic": "x", "dialog": [{"speaker": "A", "text": "hi"},
                                       {"speaker": "1_Wizard", "text": "yo", "checked_sentence": "s",
                                        "checked_passage": {}}]}],
     r"dialogue 0, turn 0: 'speaker' 'A' names neither"),
    ([{"chosen_topic": "x", "dialog": [{"speaker": "0_Apprentice", "text": "hi"},
                                       {"speaker": "1_Wizard", "text": "yo", "checked_sentence": "s",
                                        "checked_passage": {}}]}],
     r"dialogue 0, turn 1: 'checked_sentence' must be an object"),
])
def test_a_wow_file_of_the_wrong_shape_names_the_dialogue_and_field(tmp_path, data, message):
    with pytest.raises(DataFormatError, match=message):
        read_wow(_wow(tmp_path, data))


def test_a_woi_line_of_the_wrong_shape_names_the_line(tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_text('{"a": {"dialog_history": [{"action": "Apprentice => Wizard", "text": "hi"}]}}\n'
                    '{"b": {"dialog_history": []}}\n')
    with pytest.raises(DataFormatError, match=r"w.jsonl:2: 'dialog_history' is empty"):
        read_woi(path)


def _serve(folder: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _tgz(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_download_and_prepare_both_releases_from_a_loopback_mirror(tmp_path):
    wow = (FIX / "wow_test.json").read_bytes()
    mirror = tmp_path / "mirror"
    _tgz(mirror / download.ARCHIVES["wow"], {"train.json": wow, "test_random_split.json": wow,
                                             "test_topic_split.json": wow})
    _tgz(mirror / download.ARCHIVES["woi"], {"wizard_of_internet/test.jsonl": (FIX / "woi_test.jsonl").read_bytes()})
    server = _serve(mirror)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        written = download.fetch("wow", tmp_path / "data", url) + download.fetch("woi", tmp_path / "data", url)
    finally:
        server.shutdown()
    names = {p.relative_to(tmp_path / "data").as_posix() for p in written}
    assert {"wow/train.tsv", "wow/test_seen.tsv", "wow/test_unseen_response_reference.txt", "woi/test.tsv",
            "woi/test_knowledge_reference.txt"} <= names
    assert read_tsv(tmp_path / "data" / "wow" / "test_seen.tsv") == process_wow(read_wow(FIX / "wow_test.json"))
    refs = (tmp_path / "data" / "wow" / "test_seen_response_reference.txt").read_text().splitlines()
    assert refs[0] == "Kites were first made in China over two thousand years ago !"  # NLTK-tokenised
    assert (tmp_path / "data/wow/test_seen_knowledge_reference.txt").read_text().splitlines()[2] == "no_passages_used"


def test_sample_key_is_topic_and_last_turn():
    assert Sample("T", ("a", "b c"), "k", "r").key == "T b c"
