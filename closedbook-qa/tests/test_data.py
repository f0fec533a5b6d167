"""Readers on fixtures in the exact DPR / FiD formats, and their one-line errors with file and line."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from closedbook_qa.data import DataFormatError, read_dpr_qas, read_questions
from closedbook_qa.download import SOURCES, iter_json_array, prepare, slim_pool

FIX = Path(__file__).parent / "fixtures"


def test_dpr_qas_csv_parses_python_list_literals_with_either_quote():
    items = read_dpr_qas(FIX / "nq-test.qa.csv")
    assert [i.id for i in items] == ["0", "1", "2"]
    assert items[0].answers == ("Wilhelm Conrad Röntgen",)
    assert items[2].answers == ("hit points or health points", "health points")


def test_dpr_retriever_json_gives_the_first_positive_passage():
    items = read_questions(FIX / "biencoder-train.json")
    assert items[0].title == "Big Little Lies (TV series)" and items[0].demo_answer == "seven"


def test_fid_json_gives_ctxs0_and_target_and_keeps_ids():
    items = read_questions(FIX / "fid-train.json")
    assert items[0].text.startswith("Sunset Boulevard is") and items[0].demo_answer == "Sunset Boulevard"
    assert items[1].id == "tqa-2" and items[1].demo_answer == "David Seville"


@pytest.mark.parametrize(("line", "message"), [
    ("no tab here", "expected 'question<TAB>"),
    ("q\t['unclosed", "not a Python list literal"),
    ("q\t[1, 2]", "list of strings"),
    ("q\t[]", "empty gold answer list"),
    ("q\t__import__('os')", "not a Python list literal"),
])
def test_a_malformed_qas_line_is_reported_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.qa.csv"
    path.write_text(f"good question\t['a']\n{line}\n")
    with pytest.raises(DataFormatError, match=rf"bad\.qa\.csv:2: .*{message}"):
        read_dpr_qas(path)


def test_broken_json_is_reported_with_its_line(tmp_path):
    path = tmp_path / "pool.json"
    path.write_text('[\n{"question": "q", "answers": ["a"]},\n{oops}\n]')
    with pytest.raises(DataFormatError, match=r"pool\.json:3"):
        read_questions(path)


def test_streamed_json_array_matches_json_load_across_chunk_borders():
    data = [{"question": f"q{i}", "answers": [str(i)], "pad": "x" * (i * 7)} for i in range(50)]
    assert list(iter_json_array(io.StringIO(json.dumps(data)), chunk=64)) == data
    with pytest.raises(DataFormatError, match="truncated"):
        list(iter_json_array(io.StringIO(json.dumps(data)[:-30]), chunk=64))


def test_prepare_turns_downloaded_dpr_files_into_the_run_layout(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "tqa"
    raw.mkdir()
    names = SOURCES["tqa"]
    for split in ("test", "dev"):  # TriviaQA's qas files come gzipped
        with gzip.open(raw / names[split], "wt", encoding="utf-8") as f:
            f.write((FIX / "nq-test.qa.csv").read_text(encoding="utf-8"))
    with gzip.open(raw / names["train"], "wt", encoding="utf-8") as f:
        f.write((FIX / "biencoder-train.json").read_text(encoding="utf-8"))
    prepare("tqa", raw, out)
    assert len(read_questions(out / "test.qa.csv")) == 3
    pool = json.loads((out / "train.json").read_text(encoding="utf-8"))
    assert pool[1] == {"question": "who sang waiting for a girl like you", "answers": ["Foreigner"],
                       "positive_ctxs": [{"title": "Waiting for a Girl Like You", "text": pool[1]["positive_ctxs"][0]
                                          ["text"]}]}
    assert slim_pool(raw / names["train"], tmp_path / "again.json") == 2


def test_the_embedded_gk_set_reads_cleanly_and_test_and_pool_are_disjoint():
    from closedbook_qa.datasets import EMBEDDED

    test = read_questions(EMBEDDED / "gk" / "test.qa.csv")
    pool = read_questions(EMBEDDED / "gk" / "train.json")
    assert len(test) + len(pool) >= 200 and all(p.text and p.title for p in pool)
    assert not {t.question for t in test} & {p.question for p in pool}
