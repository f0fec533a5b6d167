"""Regenerate the shipped sentence lists from the docstrings of Python's standard library.

Why docstrings: they are real English prose written by many authors, present on every machine with
Python, and free to redistribute. Why ship the result instead of extracting at run time: docstrings
change between Python versions, and a corpus must be byte-identical on every machine. This script is
run by hand (``python -m ninerepro.data.synth.build_sentences``) when the list should change; the output
files ``sentences_train.txt`` and ``sentences_heldout.txt`` are committed beside it.

Sources are parsed with :mod:`ast` (never imported), so modules with import side effects are harmless.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path

from ninerepro.atomic import atomic_write_text

# A fixed, sorted list of stdlib modules and packages with plenty of prose docstrings.
MODULES = (
    "abc", "argparse", "ast", "asyncio", "base64", "bdb", "bisect", "calendar", "cmd", "code", "codecs",
    "collections", "concurrent", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "dis", "doctest", "email", "enum", "filecmp", "fileinput", "fnmatch", "fractions",
    "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http",
    "imaplib", "importlib", "inspect", "io", "ipaddress", "json", "logging", "lzma", "mailbox", "mimetypes",
    "multiprocessing", "netrc", "numbers", "operator", "optparse", "os", "pathlib", "pdb", "pickle",
    "pkgutil", "platform", "plistlib", "poplib", "pprint", "pydoc", "queue", "random", "re", "reprlib",
    "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "signal", "smtplib", "socket",
    "socketserver", "sqlite3", "ssl", "statistics", "string", "subprocess", "tarfile", "tempfile",
    "textwrap", "threading", "timeit", "tokenize", "trace", "traceback", "turtle", "typing", "unittest",
    "urllib", "uuid", "warnings", "wave", "weakref", "xml", "zipfile", "zipimport",
)
MIN_WORDS, MAX_WORDS = 5, 24
MIN_CHARS, MAX_CHARS = 25, 150
HELDOUT_PERCENT = 10

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_ALLOWED = re.compile(r"^[A-Za-z0-9 ,;:'.?!-]+$")
_WORD = re.compile(r"^[A-Za-z]+(?:'[a-z]+)?[,;:.?!]?$|^[0-9]+[,;:.?!]?$|^[A-Za-z]+-[A-Za-z]+[,;:.?!]?$")
_CODE_HINTS = ("e.g", "i.e", "etc.", "vs.", "http", "www", " ie ", " eg ", "--", "..")
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Z]{2,}[a-z]")
_CODE_LINE = re.compile(r"^\s*(>>>|\.\.\.|[-=~^*]{3,}|[-*+] |\d+\. |:[a-z]+:)")


def module_files(stdlib: Path, modules: Iterable[str]) -> list[Path]:
    """All ``.py`` files of the named modules (packages recursively, tests excluded), sorted."""
    files: list[Path] = []
    for name in modules:
        single, package = stdlib / f"{name}.py", stdlib / name
        if single.is_file():
            files.append(single)
        elif package.is_dir():
            files.extend(p for p in package.rglob("*.py") if "test" not in p.relative_to(stdlib).as_posix())
    return sorted(set(files))


def docstrings(source: str) -> Iterator[str]:
    """Docstrings of a module and of every class and function in it, in source order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc


def prose_paragraphs(doc: str) -> Iterator[str]:
    """Paragraphs of flowing text: a paragraph with any code-looking or indented line is skipped whole."""
    for block in re.split(r"\n\s*\n", doc):
        lines = block.splitlines()
        if not lines or any(line.startswith((" ", "\t")) or _CODE_LINE.match(line) for line in lines):
            continue
        yield " ".join(line.strip() for line in lines)


def is_clean_sentence(sentence: str) -> bool:
    """ASCII prose that a speaker would read aloud: no code, no URLs, no symbols, sane length."""
    words = sentence.split()
    return (
        MIN_WORDS <= len(words) <= MAX_WORDS
        and MIN_CHARS <= len(sentence) <= MAX_CHARS
        and sentence[0].isupper()
        and sentence[-1] in ".?!"
        and _ALLOWED.match(sentence) is not None
        and not any(hint in f" {sentence.lower()} " for hint in _CODE_HINTS)
        and all(_WORD.match(w) for w in words)
        and not any(_CAMEL.search(w) for w in words)  # CamelCase identifiers such as ExitStack
        and sum(w[0].isupper() for w in words[1:]) <= 2  # identifiers and titles are capital-heavy
    )


def extract_sentences(files: Iterable[Path]) -> list[str]:
    """Clean, case-insensitively deduplicated sentences from the files' docstrings, sorted."""
    seen: dict[str, str] = {}
    for path in files:
        for doc in docstrings(path.read_text(encoding="utf-8", errors="replace")):
            for paragraph in prose_paragraphs(doc):
                for sentence in _SENTENCE_END.split(paragraph):
                    sentence = " ".join(sentence.split())
                    if is_clean_sentence(sentence):
                        seen.setdefault(sentence.lower(), sentence)
    return sorted(seen.values())


def is_heldout(sentence: str) -> bool:
    """A stable hash decides, so adding sentences later never moves an old one between splits."""
    digest = hashlib.sha1(sentence.lower().encode("utf-8")).hexdigest()
    return int(digest, 16) % 100 < HELDOUT_PERCENT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the shipped sentence lists from stdlib docstrings.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="folder for the two lists")
    args = parser.parse_args(argv)
    sentences = extract_sentences(module_files(Path(sysconfig.get_paths()["stdlib"]), MODULES))
    heldout = [s for s in sentences if is_heldout(s)]
    train = [s for s in sentences if not is_heldout(s)]
    atomic_write_text(args.out / "sentences_train.txt", "".join(s + "\n" for s in train))
    atomic_write_text(args.out / "sentences_heldout.txt", "".join(s + "\n" for s in heldout))
    print(f"{len(train)} train + {len(heldout)} held-out sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
