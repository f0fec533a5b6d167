"""Environment stamps for reported numbers name the machine, versions, date and commit."""

import re

import torch

from ninerepro import envinfo


def test_describe_names_device_versions_date_and_commit():
    env = envinfo.describe("cpu")
    assert env["torch"] == str(torch.__version__)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", env["date"])
    assert "cores" in env["device"] and env["git"]


def test_git_hash_outside_a_repository_is_unknown(tmp_path):
    assert envinfo.git_hash(tmp_path) == "unknown"
