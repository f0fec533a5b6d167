"""Our distribution names are ours: one prefix, none taken on PyPI, and every dependency between our packages
names one of them.

A user who runs ``pip install ./waveglow`` gets whatever PyPI serves under each dependency name that no local
folder provides; a dependency spelled ``repro`` or ``waveglow`` resolves to a stranger's package (both names
are taken). These tests read the ``pyproject.toml`` files only, so they run in any environment.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ninerepro"

# Names known to be taken on PyPI by other projects, checked 2026-12-02 (`pip index versions NAME` answered with
# versions, or the simple index held the project): repro 0.1.6, waveglow 22.12.28, flowtron 22.12.28,
# deepspeech 0.9.3 (Mozilla; no wheel for our Python, so `pip index` hides it), reprokit.
TAKEN_ON_PYPI = frozenset({"repro", "waveglow", "flowtron", "deepspeech", "reprokit"})

# The import names the issues fix for the paper packages (folder -> package under <folder>/src/).
PAPER_IMPORT_NAMES = {
    "waveglow": "waveglow", "flowtron": "flowtron", "mellotron": "mellotron", "deepspeech": "deepspeech",
    "crnn-kws": "crnn_kws", "upcycling": "upcycling", "leandojo": "reprover", "closedbook-qa": "closedbook_qa",
    "knowledge-dialogue": "knowledge_dialogue",
}
# What our packages were called before they took the prefix: a dependency still spelled so points at PyPI.
FORMER_NAMES = frozenset({"repro", "waveglow", "flowtron", "mellotron", "deepspeech", "crnn-kws", "upcycling",
                          "reprover", "closedbook-qa", "knowledge-dialogue"})


def normalise(name: str) -> str:
    """PEP 503 comparison form: ``Closedbook_QA`` and ``closedbook-qa`` are one project to pip."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """``"numpy>=1.24; python_version < '3.12'"`` -> ``"numpy"`` (normalised)."""
    return normalise(re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0])


def pyprojects() -> dict[str, dict]:
    """Folder name -> parsed ``pyproject.toml`` for the toolkit and every subproject."""
    found = {p.parent.name: tomllib.loads(p.read_text(encoding="utf-8")) for p in ROOT.glob("*/pyproject.toml")}
    assert "repro" in found and len(found) == 1 + len(PAPER_IMPORT_NAMES), sorted(found)
    return found


def all_requirements(pyproject: dict) -> list[str]:
    """Runtime, every optional extra, and the build backend's requirements."""
    project = pyproject["project"]
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return reqs + list(pyproject.get("build-system", {}).get("requires", []))


OURS = {folder: normalise(p["project"]["name"]) for folder, p in pyprojects().items()}


def test_one_prefix_for_every_distribution():
    assert OURS["repro"] == PREFIX
    for folder, name in OURS.items():
        if folder != "repro":
            assert name.startswith(PREFIX + "-"), f"{folder}/pyproject.toml: name {name!r} lacks {PREFIX}-"
    assert len(set(OURS.values())) == len(OURS), OURS


def test_no_distribution_name_is_taken_on_pypi():
    taken = {folder: name for folder, name in OURS.items() if name in TAKEN_ON_PYPI}
    assert not taken, f"taken on PyPI by other projects: {taken}"


@pytest.mark.parametrize("folder", sorted(PAPER_IMPORT_NAMES))
def test_paper_import_names_unchanged(folder):
    packages = {p.parent.name for p in (ROOT / folder / "src").glob("*/__init__.py")}
    assert packages == {PAPER_IMPORT_NAMES[folder]}, f"{folder}/src holds {sorted(packages)}"


@pytest.mark.parametrize("folder", sorted(OURS))
def test_dependencies_on_our_packages_use_our_names(folder):
    """A dependency that names one of our packages by an import name or a former name would come from PyPI."""
    ours = set(OURS.values())
    suspicious = FORMER_NAMES | {normalise(n) for n in PAPER_IMPORT_NAMES.values()} | {"repro"}
    for requirement in all_requirements(pyprojects()[folder]):
        name = requirement_name(requirement)
        if name.startswith(PREFIX) or name in suspicious:
            assert name in ours, f"{folder}/pyproject.toml depends on {requirement!r}, which is not one of ours"


def test_flowtron_and_mellotron_depend_on_our_waveglow():
    for folder in ("flowtron", "mellotron"):
        names = {requirement_name(r) for r in pyprojects()[folder]["project"]["dependencies"]}
        assert {OURS["repro"], OURS["waveglow"]} <= names, f"{folder}: {sorted(names)}"


def test_the_name_rules_catch_a_stranger():
    """The checks above are only worth something if a former spelling fails them."""
    assert requirement_name("waveglow>=0.1; python_version >= '3.10'") in FORMER_NAMES
    assert requirement_name("Closedbook_QA[vllm]") == "closedbook-qa"
    assert "waveglow" in TAKEN_ON_PYPI and "repro" in TAKEN_ON_PYPI


# The toolkit's import package (``repro/src/<name>``): it must not be one a PyPI package installs, or an installed
# stranger and our toolkit would shadow each other. ``ninerepro`` checked free 2026-12-02 (`pip index versions`).
TOOLKIT_IMPORT_NAME = PREFIX
FORMER_TOOLKIT_IMPORT = re.compile(r"^\s*(?:from\s+repro(?:\.|\s+import\b)|import\s+repro\b)", re.M)


def test_toolkit_import_name_is_ours():
    packages = {p.parent.name for p in (ROOT / "repro" / "src").glob("*/__init__.py")}
    assert packages == {TOOLKIT_IMPORT_NAME}, f"repro/src holds {sorted(packages)}"
    assert TOOLKIT_IMPORT_NAME not in TAKEN_ON_PYPI


def our_python_files() -> list[Path]:
    """Every .py in the toolkit, the subprojects and tools/, without build output."""
    files = []
    for top in [*(ROOT / f for f in OURS), ROOT / "tools", ROOT / "conftest.py"]:
        for path in ([top] if top.is_file() else top.rglob("*.py")):
            if not {"build", ".venv", "__pycache__"} & set(path.relative_to(ROOT).parts):
                files.append(path)
    return files


def test_no_code_imports_the_former_toolkit_name():
    """The rename left no shim, so a leftover ``import repro`` would fail at run time, not here, without this."""
    files = our_python_files()
    assert len(files) > 100, len(files)
    offenders = [str(p.relative_to(ROOT)) for p in files if FORMER_TOOLKIT_IMPORT.search(p.read_text("utf-8"))]
    assert not offenders, offenders
    assert FORMER_TOOLKIT_IMPORT.search("    from repro.audio import mel\n")
    assert FORMER_TOOLKIT_IMPORT.search("import repro\n") and not FORMER_TOOLKIT_IMPORT.search("import reprover\n")
