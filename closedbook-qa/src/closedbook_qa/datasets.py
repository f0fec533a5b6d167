"""Where each dataset's files live once ``make data-<name>`` (``closedbook_qa.download``) has prepared them.

Layout under ``--data-dir`` (default ``data/``): ``<name>/{train,dev,test}.qa.csv`` (DPR qas) and
``<name>/train.json`` (the demonstration pool: DPR retriever JSON with a passage per question, or a FiD
``train.json`` put there by the user). ``gk`` is this project's own general-knowledge set, committed under
``closedbook-qa/data/gk``.
"""

from __future__ import annotations

from pathlib import Path

DATASETS = ("nq", "tqa", "webq", "gk")
EMBEDDED = Path(__file__).resolve().parents[2] / "data"


def dataset_dir(name: str, data_dir: str | Path) -> Path:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)} or pass --questions/--pool")
    return EMBEDDED / "gk" if name == "gk" else Path(data_dir) / name


def question_file(name: str, split: str, data_dir: str | Path) -> Path:
    path = dataset_dir(name, data_dir) / f"{split}.qa.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; run `make data-{name}` first, or pass --questions FILE")
    return path


def pool_file(name: str, data_dir: str | Path) -> Path:
    path = dataset_dir(name, data_dir) / "train.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no demonstration pool; run `make data-{name}` first, or pass --pool FILE")
    return path
