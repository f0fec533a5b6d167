"""A test helper for the pipelines' command lines: a user error is exactly one ``error:`` line and status 2."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def one_line_error(main: Callable[[list[str]], int], argv: Sequence[str], capsys) -> str:
    """Run ``main(argv)`` under pytest's ``capsys``; assert status 2 and a single ``error:`` line, return it."""
    capsys.readouterr()
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, f"expected exit status 2, got {code} (stderr: {err!r})"
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1, err
    return err
