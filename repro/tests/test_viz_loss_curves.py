"""Reading metrics.jsonl and plotting it: splits, resumed steps, ignored keys and line-numbered errors."""

import json

import matplotlib.image
import pytest

from ninerepro.viz import loss_curves_figure, plot_loss_curves, read_metrics_jsonl

RECORDS = [
    {"step": 1, "split": "train", "time": 0.5, "loss": 2.0, "lr": 1e-3, "note": "warmup"},
    {"step": 2, "split": "train", "time": 1.0, "loss": 1.5, "lr": 1e-3},
    {"step": 2, "split": "val", "time": 1.2, "loss": 1.8},
    {"step": 2, "split": "train", "time": 9.0, "loss": 1.4, "lr": 1e-3},  # re-logged after a resume
    {"step": 3, "split": "train", "time": 9.5, "loss": 1.2, "lr": 5e-4, "finite": True},
]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_numeric_metrics_are_grouped_by_key_and_split_and_the_later_record_wins(tmp_path):
    path = _write(tmp_path / "metrics.jsonl", [json.dumps(r) for r in RECORDS])
    series = read_metrics_jsonl(path)
    assert list(series) == ["loss", "lr"]  # time, note (string) and finite (bool) are not metrics
    assert series["loss"] == {"train": {1: 2.0, 2: 1.4, 3: 1.2}, "val": {2: 1.8}}


def test_plot_has_one_panel_per_metric_with_a_line_per_split(tmp_path):
    path = _write(tmp_path / "metrics.jsonl", [json.dumps(r) for r in RECORDS])
    fig = loss_curves_figure(read_metrics_jsonl(path), ["loss", "lr"], log_scale=True)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "lr"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train", "val"]
    assert fig.axes[0].get_yscale() == "log"
    out = plot_loss_curves(path, tmp_path / "curves.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(out).shape[:2] == (320, 1000)  # two panels of 5 x 3.2 inches


def test_a_malformed_line_is_an_error_naming_the_file_and_line(tmp_path):
    lines = [json.dumps(RECORDS[0]), "", '{"step": 2, "split": "train", "loss": 1.5', json.dumps(RECORDS[1])]
    path = _write(tmp_path / "metrics.jsonl", lines)
    with pytest.raises(ValueError, match=r"metrics\.jsonl:3: malformed JSON"):
        plot_loss_curves(path, tmp_path / "curves.png")
    assert not (tmp_path / "curves.png").exists()


def test_a_record_without_an_integer_step_names_its_line(tmp_path):
    path = _write(tmp_path / "metrics.jsonl", [json.dumps(RECORDS[0]), '{"split": "val", "loss": 1.0}'])
    with pytest.raises(ValueError, match=r"metrics\.jsonl:2: every record needs an integer 'step'"):
        read_metrics_jsonl(path)


def test_a_line_that_is_not_an_object_names_its_line(tmp_path):
    path = _write(tmp_path / "metrics.jsonl", ["[1, 2]"])
    with pytest.raises(ValueError, match=r"metrics\.jsonl:1: expected a JSON object"):
        read_metrics_jsonl(path)


def test_non_utf8_bytes_name_their_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(json.dumps(RECORDS[0]).encode() + b"\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"metrics\.jsonl:2: not UTF-8"):
        read_metrics_jsonl(path)


def test_asking_for_an_absent_key_lists_the_available_ones(tmp_path):
    path = _write(tmp_path / "metrics.jsonl", [json.dumps(RECORDS[0])])
    with pytest.raises(ValueError, match=r"no values for \['gate_loss'\]; the file has \['loss', 'lr'\]"):
        plot_loss_curves(path, tmp_path / "curves.png", keys=["gate_loss"])


def test_a_missing_file_says_where_training_writes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"metrics\.jsonl"):
        read_metrics_jsonl(tmp_path / "nope.jsonl")
