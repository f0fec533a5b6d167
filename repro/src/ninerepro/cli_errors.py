"""One line and exit code 2 for a user's mistake; a traceback only with ``--debug``.

Every command-line tool here turns the errors a user can fix (a bad file, a wrong option, a checkpoint that does
not fit) into ``prog: error: <message>`` on stderr and status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator

from ninerepro.audio.errors import AudioFileError, SampleRateError
from ninerepro.data.filelists import DataFormatError
from ninerepro.train.checkpoint import CheckpointError
from ninerepro.train.config import ConfigError

COMMON_USER_ERRORS: tuple[type[BaseException], ...] = (
    AudioFileError, SampleRateError, DataFormatError, CheckpointError, ConfigError, FileNotFoundError,
    FileExistsError, ValueError)


@contextlib.contextmanager
def user_errors(prog: str, debug: bool = False,
                errors: tuple[type[BaseException], ...] = COMMON_USER_ERRORS) -> Iterator[None]:
    try:
        yield
    except errors as exc:
        if debug:
            raise
        message = str(exc).strip() or type(exc).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None


def user_errors_with(*extra: type[BaseException]):
    """``user_errors`` that also treats a subproject's own request errors as the user's to fix."""
    return functools.partial(user_errors, errors=(*extra, *COMMON_USER_ERRORS))


__all__ = ["COMMON_USER_ERRORS", "user_errors", "user_errors_with"]
