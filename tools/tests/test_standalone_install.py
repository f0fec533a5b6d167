"""The toolkit and WaveGlow install on their own into a fresh venv, from local folders only, and run.

This is the path of a user who clones the repository for one paper and runs ``pip install ./repro ./waveglow``
instead of ``make setup``. The install runs with ``--no-index``: every third-party wheel comes from a wheelhouse
repacked here from the distributions this environment already has (torch included), so nothing can resolve to a
package on PyPI and the test needs no network. Any dependency of ours that is misnamed, or any third-party
dependency that is used but not declared, fails the install or the ``--help`` run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as metadata
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# Files pip writes at install time; a wheel must not carry them.
INSTALL_TIME_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements(folder: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project.get("dependencies", [])]


def closure(roots: list[str]) -> list[metadata.Distribution]:
    """Every installed distribution the roots need, following installed metadata (extras not taken)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def record_line(arcname: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [arcname, f"sha256={digest}", str(len(data))]


def compressed_tag(tags: list[str]) -> str:
    """``["py2-none-any", "py3-none-any"]`` -> ``"py2.py3-none-any"``: the filename must name every tag the
    WHEEL file lists, or pip skips a wheel tagged ``py2`` first as incompatible."""
    parts = [dict.fromkeys(tag.split("-")[i] for tag in tags) for i in range(3)]
    return "-".join(".".join(part) for part in parts)


def repack_as_wheel(dist: metadata.Distribution, wheelhouse: Path) -> Path:
    """Zip an installed distribution back into a wheel: the files its RECORD lists inside site-packages.

    Console scripts (outside site-packages) are left out: pip writes them again from ``entry_points.txt``.
    """
    site = Path(dist.locate_file(""))
    info_dir = next(p for p in {f.parts[0] for f in dist.files or []} if p.endswith(".dist-info"))
    tags = [line.split(":", 1)[1].strip() for line in (site / info_dir / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")]
    name, version = info_dir[: -len(".dist-info")].rsplit("-", 1)
    target = wheelhouse / f"{name}-{version}-{compressed_tag(tags)}.whl"
    rows: list[list[str]] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as wheel:
        for entry in dist.files or []:
            arcname = entry.as_posix()
            if arcname.startswith("..") or "__pycache__" in entry.parts:
                continue
            if entry.parts[0] == info_dir and entry.name in INSTALL_TIME_FILES:
                continue
            path = site / entry
            if not path.is_file():
                continue
            data = path.read_bytes()
            wheel.writestr(arcname, data)
            rows.append(record_line(arcname, data))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([*rows, [f"{info_dir}/RECORD", "", ""]])
        wheel.writestr(f"{info_dir}/RECORD", out.getvalue())
    return target


def clean_pip_env() -> dict[str, str]:
    """No pip configuration, find-links or index from this machine: the command line alone says where to look."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.mark.slow
def test_toolkit_and_waveglow_install_alone_from_local_folders(tmp_path):
    ours = {normalise(tomllib.loads((ROOT / f / "pyproject.toml").read_text())["project"]["name"])
            for f in ("repro", "waveglow")}
    third_party = [r.name for f in ("repro", "waveglow") for r in declared_requirements(f)
                   if normalise(r.name) not in ours]
    build_backend = ["setuptools"]  # both pyprojects build with setuptools.build_meta
    wheelhouse = tmp_path / "wheels"
    wheelhouse.mkdir()
    for dist in closure([*third_party, "torch", *build_backend]):
        repack_as_wheel(dist, wheelhouse)

    venv = tmp_path / "venv"
    env = clean_pip_env()
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], env)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    pip = [str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheelhouse)]
    run([*pip, "torch"], env)  # the README's order: torch (CPU or CUDA) first, then the two folders
    # copies: setuptools builds in the source folder (build/, *.egg-info), which must not land in the checkout
    folders = [shutil.copytree(ROOT / f, tmp_path / "src" / f, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__")) for f in ("repro", "waveglow")]
    run([*pip, *map(str, folders)], env)

    installed = {normalise(d.split("==")[0]) for d in
                 run([str(python), "-m", "pip", "list", "--format=freeze"], env).stdout.split()}
    assert ours <= installed, installed
    assert not installed & {"repro", "waveglow"}, "a former or stranger's name was installed"

    res = run([str(bin_dir / "waveglow-infer"), "--help"], {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"})
    assert "usage" in res.stdout.lower()
